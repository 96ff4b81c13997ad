"""The production server starts with several workers on a ledger whose views were never built:
its workers create the view and token tables at the same moment."""

from __future__ import annotations

from tests.reliability.support import Server, environment


def test_four_workers_starting_together_on_fresh_views_all_boot(world, databases, tmp_path):
    for attempt in range(3):
        views_url = databases.new(f"views-{attempt}")
        server = Server.start(tmp_path, world.settings.database_url, workers=4,
                              env=environment(tmp_path, world.settings.database_url, views_url))
        try:
            server.wait_ready()
            assert [server.get("/api/v1/health")[0] for _ in range(8)] == [200] * 8
            assert "Worker failed to boot" not in server.log.read_text()
            assert "Exception in worker process" not in server.log.read_text()
        finally:
            server.stop()
