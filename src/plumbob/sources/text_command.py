"""Shell prompt lines in pasted terminal text: which command printed the lines below them."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

KUBE_TOOLS = frozenset({"kubectl", "oc", "kubecolor", "k3s", "microk8s", "microk8s.kubectl"})
_PROMPT_ENDS = ("$", "#", ">", "%", "\u276f", "\u279c", "\u2717", "\u03bb", "\u00bb")
"""What shell prompts end with (`$`, root's `#`, `>`, zsh's `%`, and the arrows, crosses and
lambdas of common zsh/fish themes)."""
_PREFIX_WORDS = frozenset({"sudo", "-", "*", "~", "\u2022"})
_MAX_PREFIX = 6
_FILTERS = frozenset(
    {"grep", "egrep", "fgrep", "rg", "ag", "findstr", "select-string", "sls", "tail"}
)
_TRANSPARENT = frozenset({"cat", "less", "more", "tee", "head"})
_RESOURCES = {
    "no": "nodes",
    "node": "nodes",
    "nodes": "nodes",
    "po": "pods",
    "pod": "pods",
    "pods": "pods",
    "deploy": "deployments",
    "deployment": "deployments",
    "deployments": "deployments",
    "ds": "daemonsets",
    "daemonset": "daemonsets",
    "sts": "statefulsets",
    "statefulset": "statefulsets",
    "svc": "services",
    "service": "services",
    "ev": "events",
    "event": "events",
    "hpa": "horizontalpodautoscalers",
    "ns": "namespaces",
    "namespace": "namespaces",
    "cm": "configmaps",
    "configmap": "configmaps",
    "pvc": "persistentvolumeclaims",
    "pv": "persistentvolumes",
    "rs": "replicasets",
    "job": "jobs",
    "cj": "cronjobs",
    "cronjob": "cronjobs",
}
_VALUE_FLAGS = frozenset(
    {
        "-n",
        "--namespace",
        "-l",
        "--selector",
        "-L",
        "--label-columns",
        "-o",
        "--output",
        "--context",
        "--kubeconfig",
        "--cluster",
        "--user",
        "--field-selector",
        "-c",
        "--container",
        "--sort-by",
        "--template",
        "-f",
        "--filename",
        "-s",
        "--server",
        "--chunk-size",
        "--request-timeout",
        "--as",
    }
)


@dataclass(frozen=True, slots=True)
class Command:
    """A command line read from a prompt line: what it ran and what its output looks like."""

    program: str
    """`kubectl`, `oc`, or another program (`nvidia-smi`, `helm`, `cat`)."""
    text: str
    """The command as written (after the prompt), for messages."""
    line: int
    verb: str = ""
    resource: str = ""
    """Canonical plural resource (`nodes`, `pods`), or as written for others; `""` when none."""
    names: tuple[str, ...] = ()
    output: str = ""
    """The -o value: `""`, `wide`, `json`, `yaml`, `custom-columns=...`, `jsonpath=...`."""
    show_labels: bool = False
    label_columns: tuple[str, ...] = ()
    selector: str = ""
    stages: tuple[tuple[str, ...], ...] = ()
    """Each program the output was piped through, with its arguments."""

    @property
    def kube(self) -> bool:
        return self.program in KUBE_TOOLS

    @property
    def filter(self) -> str | None:
        """The grep-like program that kept only some lines of the output, if any."""
        for stage in self.stages:
            if stage and stage[0].lower() in _FILTERS:
                return stage[0]
        return None

    @property
    def transform(self) -> str | None:
        """A program that rewrote the output (awk, sed, tr, sort, column...), if any; jq and yq
        are reported by `jq`. Head keeps a beginning, which the readers handle as a cut."""
        for stage in self.stages:
            prog = stage[0].lower() if stage else ""
            if (
                prog
                and prog not in _FILTERS
                and prog not in _TRANSPARENT
                and prog
                not in (
                    "jq",
                    "yq",
                )
            ):
                return stage[0]
        return None

    @property
    def jq(self) -> str | None:
        """The jq/yq filter applied to the output, if any."""
        for stage in self.stages:
            if stage and stage[0] in ("jq", "yq"):
                args = [a for a in stage[1:] if not a.startswith("-")]
                return args[0] if args else "."
        return None


def _promptish(token: str) -> bool:
    return token.endswith(_PROMPT_ENDS) or token in _PROMPT_ENDS


def command_at(line: str, number: int) -> Command | None:
    """The command on a prompt line, or None when the line is not one. A line is a prompt line
    when a Kubernetes CLI is its first word or follows a prompt (`$`, `user@host:~$`, `# `,
    `[root@m yaml]#`, `➜  dir git:(main) ✗`, `PS C:\\>`), or when any other program follows a
    prompt ending in `$`; a sentence that mentions kubectl is not one."""
    words = line.split(None, _MAX_PREFIX + 1)
    if not words:
        return None
    for i, word in enumerate(words[: _MAX_PREFIX + 1]):
        bare = word.strip("`")
        if bare.lower() in KUBE_TOOLS or (bare == "k" and i > 0):
            prefix = [w.strip("`") for w in words[:i]]
            if i == 0 or _prompt_prefix(prefix):
                return _parse(line.split(None, i)[i].strip().strip("`"), number)
            return None
    for i, word in enumerate(words[:3]):
        if word.endswith(("$", "#")) and (word == "$" or any(c in word for c in "@:]")):
            rest = line.split(None, i + 1)[i + 1].strip() if len(words) > i + 1 else ""
            if rest and rest[0].isalpha():
                return _parse(rest, number)
            return None
    return None


def _prompt_prefix(prefix: list[str]) -> bool:
    """Words before the CLI name that a prompt or a list marker consists of."""
    if not any(_promptish(w) for w in prefix):
        # `sudo kubectl`, `- kubectl`, `1. kubectl` (a list in a document)
        return all(w.lower() in _PREFIX_WORDS or w.rstrip(".)").isdigit() for w in prefix)
    return True


def _split(text: str) -> list[str]:
    """Words and pipes, quotes removed but backslashes kept (custom-columns paths escape the
    dots of label keys, `node\\.kubernetes\\.io/instance-type`); a `$(...)` substitution becomes
    one word, so its pipes are not taken for the command's."""
    lexer = shlex.shlex(text, posix=False, punctuation_chars="|;&")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        raw = list(lexer)
    except ValueError:  # an unbalanced quote: words as they are
        raw = text.replace("|", " | ").split()
    words: list[str] = []
    depth = 0
    for word in raw:
        if depth or word.startswith("$("):
            depth += word.count("(") - word.count(")")
            depth = max(depth, 0)
            if depth == 0:
                words.append("$(...)")
            continue
        if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
            word = word[1:-1]
        words.append(word)
    return words


def _parse(text: str, number: int) -> Command:
    tokens = _split(text)
    stages: list[list[str]] = [[]]
    for tok in tokens:
        if tok in ("|", "||", "|&"):
            stages.append([])
        elif tok in (";", "&&", "&"):
            break
        else:
            stages[-1].append(tok)
    main = stages[0]
    program = main[0] if main else ""
    args = main[1:]
    if program in ("k3s", "microk8s") and args and args[0] == "kubectl":
        args = args[1:]
    if program == "k":
        program = "kubectl"
    positional: list[str] = []
    output = selector = ""
    show_labels = False
    label_columns: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        flag, eq, value = arg.partition("=")
        if arg.startswith("--"):
            if not eq and flag in _VALUE_FLAGS and i + 1 < len(args):
                value = args[i + 1]
                i += 1
        elif arg.startswith("-") and len(arg) > 1:
            flag = arg[:2]
            value = arg[2:].lstrip("=")
            if not value and flag in _VALUE_FLAGS and i + 1 < len(args):
                value = args[i + 1]
                i += 1
        else:
            positional.append(arg)
            i += 1
            continue
        if flag in ("-o", "--output"):
            output = value
        elif flag in ("-l", "--selector"):
            selector = value
        elif flag in ("-L", "--label-columns"):
            label_columns.extend(v for v in value.split(",") if v)
        elif flag == "--show-labels":
            show_labels = value.lower() != "false"
        i += 1
    # `$node`, `<node-name>`, `NODE`: a placeholder a document wrote, not a node's name
    positional = [p for p in positional if not (p[:1] in "$<{" or p.isupper())]
    verb = positional[0] if positional else ""
    resource, names = "", tuple(positional[2:])
    if len(positional) > 1:
        resource, slash, name = positional[1].partition("/")
        if slash and name:  # `kubectl describe node/gpu-1`
            names = (name, *names)
        resource = ",".join(_RESOURCES.get(r.lower(), r.lower()) for r in resource.split(","))
    return Command(
        program=program,
        text=text,
        line=number,
        verb=verb,
        resource=resource,
        names=names,
        output=output,
        show_labels=show_labels,
        label_columns=tuple(label_columns),
        selector=selector,
        stages=tuple(tuple(s) for s in stages[1:]),
    )


def selector_labels(selector: str) -> dict[str, str]:
    """The labels every node a `-l` selector matched must carry: its `key=value` and
    `key==value` terms (set-based and `!=` terms say nothing certain)."""
    found: dict[str, str] = {}
    for term in selector.split(","):
        key, op, value = term.replace("==", "=").partition("=")
        key = key.strip()
        if op and not key.endswith("!") and " " not in key and key:
            found[key] = value.strip()
    return found
