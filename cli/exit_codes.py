"""The exit codes of `amanah` (README.md): 0 success, 1 verification found failures, 2 refused,
3 a set-up problem, 4 pending."""

EXIT_OK, EXIT_VERIFY_FAILED, EXIT_REFUSED, EXIT_SETUP, EXIT_PENDING = 0, 1, 2, 3, 4
