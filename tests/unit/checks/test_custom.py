"""Custom checks: loaded from YAML, run like built-in checks, and refused with the file, the
check and the position when they cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbob import engine
from plumbob.checks.registry import CheckDefinitionError, Registry
from plumbob.cli import main
from plumbob.config import Config, ConfigError, load_config_at, load_custom_checks
from plumbob.findings import Exemption
from plumbob.report.model import Severity
from tests.conftest import make_container, make_deployment, make_pod, snapshot_of

TEAM_LABEL = """\
checks:
  - id: team-label-required          # must not clash with a built-in id
    severity: medium
    category: policy
    title: Workloads carry a team label
    match: {kinds: [Deployment, StatefulSet, Job]}
    expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    message: "{kind} {namespace}/{name} has no team label"
    why: "Nobody knows whom to call about a workload without an owner."
    fix: "Add metadata.labels.team."
  - id: gpu-limit-at-most-eight
    severity: high
    category: gpu
    title: No container asks for more than eight GPUs
    match: {kinds: [Pod]}
    expression: >-
      object.spec.containers.all(c, !has(c.resources.limits) ||
        !('nvidia.com/gpu' in c.resources.limits) ||
        quantity(string(c.resources.limits['nvidia.com/gpu'])).compareTo(quantity('8')) <= 0)
    messageExpression: "'pod ' + object.metadata.name + ' asks for too many GPUs'"
"""


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    path = tmp_path / "team.yaml"
    path.write_text(TEAM_LABEL)
    return path


def labelled(name: str, team: str | None) -> dict[str, object]:
    obj = make_deployment(name)
    if team is not None:
        obj["metadata"]["labels"] = {"team": team}  # type: ignore[index]
    return obj


def scan(path: Path, config: Config | None = None) -> engine.Report:
    registry = Registry.discover().with_checks(load_custom_checks([path]))
    snap = snapshot_of(
        labelled("owned", "ml"),
        labelled("orphan", None),
        make_pod("big", containers=[make_container(gpus=16)]),
        make_pod("small", containers=[make_container(gpus=2)]),
    )
    return engine.run([snap], registry, config)


def test_custom_checks_find_what_their_expression_refuses(team_file: Path) -> None:
    report = scan(team_file)
    team = [f for f in report.findings if f.check == "team-label-required"]
    assert [f.subject.name for f in team] == ["orphan"]
    assert team[0].message == "Deployment default/orphan has no team label"
    assert team[0].category == "policy"
    gpus = [f for f in report.findings if f.check == "gpu-limit-at-most-eight"]
    assert [(f.subject.name, f.message) for f in gpus] == [
        ("big", "pod big asks for too many GPUs")
    ]
    runs = {r.check: r for r in report.checks}
    assert runs["team-label-required"].findings == 1
    assert any(s.category == "policy" for s in report.scores.categories)


def test_severity_overrides_and_exemptions_apply(team_file: Path) -> None:
    config = Config(
        severity={"team-label-required": Severity.CRITICAL},
        exemptions=[Exemption(check="gpu-limit-at-most-eight", name="big")],
    )
    report = scan(team_file, config)
    team = [f for f in report.findings if f.check == "team-label-required"]
    assert [f.severity.value for f in team] == ["critical"]
    assert not [f for f in report.findings if f.check == "gpu-limit-at-most-eight"]


def test_an_expression_that_fails_on_an_object_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "checks:\n"
        "  - {id: needs-team, severity: low, category: policy, title: t,\n"
        "     match: {kinds: [Deployment]}, expression: \"object.metadata.labels.team == 'ml'\"}\n"
    )
    report = scan(path)
    found = {f.subject.name: f.message for f in report.findings if f.check == "needs-team"}
    assert set(found) == {"orphan"}
    assert "the expression failed" in found["orphan"]


def test_a_kind_the_input_cannot_show_is_not_visible(team_file: Path) -> None:
    registry = Registry.discover().with_checks(load_custom_checks([team_file]))
    snap = snapshot_of(make_pod("p"), captured=["Pod"])  # Deployments were not listed
    report = engine.run([snap], registry)
    runs = {r.check: r for r in report.checks}
    assert runs["team-label-required"].status.value == "not-visible"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checks.yaml"
    path.write_text(text)
    return path


ENTRY = "  - id: {id}\n    severity: low\n    category: policy\n    title: t\n"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            ENTRY.format(id="a") + "    match: {kinds: [Pod]}\n"
            '    expression: "has(object.spec) && objec.x"\n',
            r"checks.yaml:7: check a: expression: undeclared reference to 'objec.x'.*"
            r"\(line 7, column 43\)",
        ),
        (
            ENTRY.format(id="b") + "    match: {kinds: [Pod]}\n    expression: |\n"
            "      has(object.spec) &&\n        objec.x\n",
            r"checks.yaml:9: check b: expression: undeclared reference.*\(line 9, column 14\)",
        ),
        (
            ENTRY.format(id="c") + "    match: {kinds: [Pod]}\n    expresion: 'true'\n",
            r"checks.yaml:2: check c: .*unknown field `expresion`",
        ),
        (
            ENTRY.format(id="d") + "    match: {kinds: [Pod]}\n    expression: 'true'\n"
            "    message: '{kind} {owner}'\n",
            r"checks.yaml:2: check d: message: unknown placeholder \{owner\}",
        ),
        (
            ENTRY.format(id="e").replace("policy", "security")
            + "    match: {kinds: [Pod]}\n    expression: 'true'\n",
            r"checks.yaml:2: check e: unknown category 'security'",
        ),
        (
            ENTRY.format(id="g") + "    match: {kinds: [Deployment, StatefulSet]}\n"
            '    expression: "has(object.spec.strategy) && has(object.spec.template)"\n',
            r"checks.yaml:7: check g: expression reads object.spec.strategy "
            r"\(Deployment, StatefulSet\), which plumbob does not keep",
        ),
        (
            ENTRY.format(id="f")
            + "    match: {kinds: [Pod]}\n    expression: 'true'\n"
            + ENTRY.format(id="f")
            + "    match: {kinds: [Pod]}\n    expression: 'true'\n",
            r"checks.yaml:8: check f: defined twice \(also .*checks.yaml:2\)",
        ),
    ],
)
def test_unusable_checks_name_file_check_and_position(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        load_custom_checks([write(tmp_path, "checks:\n" + text)])


def test_fields_a_custom_resource_may_hold_are_let_through(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "checks:\n" + ENTRY.format(id="h") + "    match: {kinds: [Deployment, PyTorchJob]}\n"
        '    expression: "has(object.spec.runPolicy)"\n',
    )
    assert [c.id for c in load_custom_checks([path])] == ["h"]


def test_an_id_of_a_built_in_check_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "checks:\n" + ENTRY.format(id="gpu-node-untainted") + "    match: {kinds: [Node]}\n"
        "    expression: 'true'\n",
    )
    with pytest.raises(CheckDefinitionError, match="already a built-in check's"):
        Registry.discover().with_checks(load_custom_checks([path]))


def test_scan_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "checks:\n" + ENTRY.format(id="bad") + "    match: {kinds: [Pod]}\n"
        "    expression: 'object.spec +'\n",
    )
    with pytest.raises(SystemExit) as done:
        main(["scan", "--demo", "-q", "--custom-checks", str(path)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert f"{path}:7: check bad: expression: Syntax error" in " ".join(err.split())


def test_plumbob_yaml_lists_custom_checks_relative_to_itself(
    tmp_path: Path, team_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "plumbob.yaml"
    config.write_text(
        "custom-checks: [team.yaml]\nseverity: {team-label-required: high}\n"
        "exemptions: [{check: team-label-required, namespace: commerce}]\n"
    )
    assert load_config_at(config).custom_checks == [str(team_file)]
    out = tmp_path / "r.json"
    with pytest.raises(SystemExit) as done:
        main(["scan", "--demo", "-q", "--config", str(config), "-f", "json", "-o", str(out)])
    assert done.value.code in (0, None)
    import json

    report = json.loads(out.read_text())
    team = [f for f in report["findings"] if f["check"] == "team-label-required"]
    assert team
    assert {f["severity"] for f in team} == {"high"}
    assert not [f for f in team if f["subject"].get("namespace") == "commerce"]
    with pytest.raises(SystemExit):
        main(["explain", "team-label-required", "--config", str(config)])
    assert "has(object.metadata.labels)" in capsys.readouterr().out
