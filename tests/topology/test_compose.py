"""docker-compose.yml and the Dockerfile describe what the topology tests run (Docker cannot run here).

Every variable compose or the image sets is one the application reads; compose mounts the very
nginx.conf the tests run, which nginx accepts once the harness has made its addresses local; the
health checks probe the endpoints the tests wait on; compose stops a process as the tests do.
"""

import ast
import re
import subprocess
from pathlib import Path

from django.urls import resolve

from collab import config as collab_config
from editor import health
from tests.support import compose, proxy
from tests.support.server import ROOT, ServiceMissing
from tests.support.services import missing

# Read by Python itself, not by the application.
INTERPRETER_VARIABLES = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


def variables_read(path: Path) -> set[str]:
    """Environment variables a module reads by name: os.environ.get/[...], os.getenv, env_*("NAME", ...)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = ast.unparse(func)
            if called in ("os.environ.get", "os.getenv", "os.environ.setdefault") or (
                    isinstance(func, ast.Name) and func.id.startswith("env_")):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" and isinstance(
                node.slice, ast.Constant):
            names.add(node.slice.value)
    return names


def read_by_the_application() -> set[str]:
    settings = variables_read(ROOT / "editor" / "settings.py")
    return settings | {collab_config.env_name(f) for f in collab_config.KNOBS}


def dockerfile_env() -> dict[str, str]:
    line = re.search(r"^ENV (.+)$", compose.DOCKERFILE.read_text(), re.M).group(1)
    return dict(item.split("=", 1) for item in line.split())


def test_every_variable_compose_sets_for_the_app_is_one_the_settings_read():
    read = read_by_the_application()
    assert {"DATABASE_URL", "REDIS_URL", "COLLAB_LEASE_TTL"} <= read  # the reader sees what it should
    for service in ("app", "migrate"):
        unread = set(compose.service_environment(service)) - read
        assert not unread, f"docker-compose.yml sets {sorted(unread)} for {service}, which nothing reads"
    # The image's own ENV: settings, or where editor.serve listens.
    unread = set(dockerfile_env()) - read - variables_read(ROOT / "editor" / "serve.py") - INTERPRETER_VARIABLES
    assert not unread, f"the Dockerfile sets {sorted(unread)}, which nothing reads"


def test_app_and_migration_share_one_environment_with_production_switches():
    app = compose.service_environment("app")
    assert compose.service_environment("migrate") == app, "the migration must see the app's database"
    assert app["DATABASE_URL"].startswith("postgresql://") and app["REDIS_URL"].startswith("redis://")
    assert app["DEBUG"] == "0"


def test_compose_mounts_the_nginx_conf_the_tests_run_and_nginx_accepts_it(tmp_path):
    mounts = compose.compose()["services"]["proxy"]["volumes"]
    source, target = next(m.split(":")[:2] for m in mounts if m.split(":")[1] == "/etc/nginx/nginx.conf")
    assert (ROOT / source).resolve() == proxy.NGINX_CONF
    try:
        binary = proxy.require_nginx()
    except ServiceMissing as exc:
        missing(str(exc))
    conf = tmp_path / "nginx.conf"
    conf.write_text(proxy.render(proxy.NGINX_CONF.read_text(), [8001, 8002], 8080, tmp_path))
    result = subprocess.run([binary, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_health_checks_probe_readiness_where_the_tests_wait_for_it():
    # The image's HEALTHCHECK (compose's app service uses it) and the proxy's healthcheck.
    image_check = re.search(r"^HEALTHCHECK .*\n\s+CMD (.+)$", compose.DOCKERFILE.read_text(), re.M).group(1)
    proxy_check = " ".join(compose.compose()["services"]["proxy"]["healthcheck"]["test"])
    for check in (image_check, proxy_check):
        path = re.search(r"http://127\.0\.0\.1(?::\d+)?(/[a-z/]*)", check).group(1)
        assert path == proxy.READY_PATH, check
    assert resolve(proxy.READY_PATH).func is health.readyz
    assert resolve("/healthz").func is health.healthz
    services = compose.compose()["services"]
    assert services["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_compose_stops_a_process_as_the_rolling_deploy_test_does():
    app = compose.compose()["services"]["app"]
    assert app["stop_signal"] == "SIGTERM"  # tests/support/proxy.py Topology.restart
    grace = int(re.fullmatch(r"(\d+)s", app["stop_grace_period"]).group(1))
    assert grace >= 10, "time to save every open document before Docker kills the process"


def test_the_app_believes_the_client_address_only_from_the_network_the_proxy_is_on():
    import ipaddress

    from editor.forwarded import parse_networks

    config = compose.compose()
    subnet = ipaddress.ip_network(config["networks"]["default"]["ipam"]["config"][0]["subnet"])
    assert all("networks" not in service for service in config["services"].values()), "all on the default network"
    trusted = parse_networks(compose.app_environment()["TRUSTED_PROXIES"])
    assert any(subnet.subnet_of(network) for network in trusted), (subnet, trusted)
    assert "ports" not in config["services"]["app"], "only the proxy may reach the app processes"
    # nginx overwrites the header with the address it was reached from (a client's own is never kept).
    conf = proxy.NGINX_CONF.read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf and "$proxy_add_x_forwarded_for" not in conf
