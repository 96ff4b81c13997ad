"""The `amanah` command line and the tools around it (the demo generator, the spreadsheet
importer); an entry point of the ledger, never imported by `ledger/`, `projections/` or `api/`."""
