"""The scale-out scenario's wiring: deploy/nginx.conf in front of local processes, and a short run of
1 and 2 processes behind it on PostgreSQL + Redis. No timings asserted."""

import re
import shutil
import subprocess

import pytest

from bench.proxy import CONFIG, render
from tests.support.server import ServiceMissing, require_postgres, require_redis
from tests.support.services import missing


def nginx() -> str:
    path = shutil.which("nginx") or "/usr/sbin/nginx"
    if not shutil.which(path):
        missing("nginx (Debian's package)")
    return path


def test_the_proxy_runs_the_deploy_file_with_only_its_upstreams_and_paths_changed(tmp_path):
    deployed = CONFIG.read_text()
    rendered = render(deployed, [8101, 8102], 9100, tmp_path)
    upstream = re.search(r"upstream app \{.*?\n\s*\}", rendered, re.S).group(0)
    assert re.findall(r"server (\S+)", upstream) == ["127.0.0.1:8101", "127.0.0.1:8102"]
    assert "hash $route_key consistent;" in upstream, "routing by document, as deployed"
    assert "listen 127.0.0.1:9100;" in rendered and "listen 80;" not in rendered
    # Everything else of the server block is the deployed one, line for line.
    location = re.search(r"location / \{.*?\}", deployed, re.S).group(0)
    assert location in rendered
    (tmp_path / "nginx.conf").write_text(rendered)
    check = subprocess.run([nginx(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)  # two clusters, each migrated, seeded, restarted cold and stopped with final snapshots
def test_scale_out_runs_one_and_two_processes_behind_nginx():
    from bench.runner import Options, Runner

    nginx()
    try:
        require_postgres()
        require_redis()
    except ServiceMissing as exc:
        missing(str(exc))
    runner = Runner(Options(duration=1.5, many_docs_documents=2, server_cpus=[], generator_cpus=[]))
    result = runner.scale_out()
    assert result["documents"] == 4
    for processes in (1, 2):
        run = result[f"processes_{processes}"]
        assert run["converged"] and run["all_delivered"], run
        cluster = run["cluster"]
        assert cluster["processes"] == processes
        assert cluster["sockets"] == 4 * 3, "every editor's socket counted by the processes' /metrics"
        assert 0 <= cluster["forwarded_share"] <= 1
        assert sum(cluster["documents_per_process"]) == 4 + 1, "the documents and the spare, each open once"
        assert cluster["proxy_cpu_s"] >= 0 and run["database"]["commits"] > 0
    assert result["two_vs_one"]["delivered_per_s"] is not None
