"""Find user-visible text composed in Python and not marked for translation (README, "Languages").

The template scanner's companion (rapport.core.i18n_scan). It reads each module's syntax tree and
looks at the places where a string reaches a person:

- flash messages: `messages.success(request, ...)` and the other levels, `messages.add_message`;
- form errors: `ValidationError(...)`, `form.add_error(field, ...)`;
- form fields and widgets: `label=`, `help_text=`, `empty_label=`, the values of
  `error_messages={...}`, the labels of `choices=[(value, label), ...]`, and the `placeholder`,
  `title` and `aria-label` of a widget's `attrs`; the labels of `TextChoices` members and of
  constant tables named like `STEP_LABELS`, `WHEN_CHOICES` or `OUTCOMES`;
- email: the subject and body handed to `send_mail`, `send_email`, `queue_email`,
  `EmailMessage`, `EmailMultiAlternatives`, and any `subject` / `body` variable (or a function
  named `..._subject` / `..._body` that returns one) composed from a literal;
- text messages: the body handed to `send_sms`;
- responses: the content of `HttpResponse(...)` and its error subclasses.

A literal there (a plain string, an f-string, `"..." % x`, `"...".format(x)` or a concatenation
of them) with two or more letters is unmarked unless it sits inside `gettext`, `gettext_lazy`,
`pgettext`, `ngettext` or their aliases (`_`). A text that is the same in every language, or is
read by a program and not a person, goes in ALLOWED with the reason. `rapport manage i18n_check`
and tests/i18n run this over every module of the package.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from rapport.core.i18n_scan import Unmarked

LETTERS = re.compile(r"[^\W\d_]{2,}")
MARKERS = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext",
           "ngettext_lazy", "npgettext", "npgettext_lazy", "gettext_noop", "format_lazy"}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error"}
# callee name -> (positions, keywords) of the arguments a person reads
SINKS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "ValidationError": ((0,), ("message",)),
    "add_error": ((1,), ("error",)),
    "send_mail": ((0, 1), ("subject", "message", "html_message")),
    "send_email": ((0, 1), ("subject", "message")),
    "queue_email": ((0, 1), ("subject", "message")),
    "EmailMessage": ((0, 1), ("subject", "body")),
    "EmailMultiAlternatives": ((0, 1), ("subject", "body")),
    "send_sms": ((1,), ("body",)),
    "HttpResponse": ((0,), ("content",)),
    "HttpResponseBadRequest": ((0,), ("content",)),
    "HttpResponseForbidden": ((0,), ("content",)),
    "HttpResponseNotFound": ((0,), ("content",)),
    "HttpResponseGone": ((0,), ("content",)),
    "HttpResponseServerError": ((0,), ("content",)),
}
FIELD_KEYWORDS = ("label", "help_text", "empty_label")
READ_ATTRS = ("placeholder", "title", "aria-label")
COMPOSED_NAMES = re.compile(r"^(subject|body|\w+_subject|\w+_body)$")
# Module or class constants that hold words for people: {key: label} or [(value, label), ...].
LABEL_TABLES = re.compile(r"^[A-Z_]*(LABELS?|CHOICES|OUTCOMES|MESSAGES|TITLES|HEADINGS)$")

# (path relative to the package's parent, the literal's text) -> why it need not be translated.
ALLOWED: dict[tuple[str, str], str] = {
    ("rapport/api/fhir_server.py", "{}Patient/{}"):
        "a FHIR reference (the subject of a QuestionnaireResponse), a URL read by programs",
    ("rapport/portal/export.py", "urn:uuid:{}"):
        "a FHIR Bundle entry's fullUrl and reference, an identifier read by programs",
    ("rapport/core/middleware.py", "Bad Content-Length."):
        "answers a malformed request (a Content-Length that is not a number), which a browser "
        "never sends: only a broken or hostile program reads it",
}


@dataclass(frozen=True)
class _Finding:
    line: int
    column: int
    text: str


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal_text(node: ast.expr | None) -> str | None:
    """The literal words of `node` when it is composed from string literals, else None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        left = _literal_text(node.left)
        right = _literal_text(node.right) if isinstance(node.op, ast.Add) else None
        return None if left is None and right is None else (left or "") + (right or "")
    if isinstance(node, ast.Call) and _name(node.func) == "format" and isinstance(
            node.func, ast.Attribute):
        return _literal_text(node.func.value)
    if isinstance(node, ast.IfExp):
        texts = [t for t in (_literal_text(node.body), _literal_text(node.orelse)) if t]
        return " | ".join(texts) if texts else None
    return None


def _unmarked(node: ast.expr | None) -> _Finding | None:
    text = _literal_text(node)
    if node is None or text is None or not LETTERS.search(text):
        return None
    return _Finding(node.lineno, node.col_offset, " ".join(text.split()))


def _arguments(call: ast.Call, positions: tuple[int, ...], keywords: tuple[str, ...]):
    for index in positions:
        if index < len(call.args):
            yield call.args[index]
    for keyword in call.keywords:
        if keyword.arg in keywords:
            yield keyword.value


def _choice_labels(node: ast.expr, named: dict[str, ast.expr]):
    """The labels of `[(value, label), ...]`, given inline or by a name assigned in the module."""
    if isinstance(node, ast.Name) and node.id in named:
        node = named[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        for pair in node.elts:
            if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                yield pair.elts[1]


def _field_texts(call: ast.Call, named: dict[str, ast.expr]):
    """The label-like keywords of a form field or widget call."""
    for keyword in call.keywords:
        if keyword.arg in FIELD_KEYWORDS:
            yield keyword.value
        elif keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
            yield from keyword.value.values
        elif keyword.arg == "choices":
            yield from _choice_labels(keyword.value, named)
        elif keyword.arg == "attrs" and isinstance(keyword.value, ast.Dict):
            for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in READ_ATTRS:
                    yield value


def _call_texts(call: ast.Call, named: dict[str, ast.expr]):
    name = _name(call.func)
    owner = call.func.value if isinstance(call.func, ast.Attribute) else None
    if isinstance(owner, ast.Name) and owner.id == "messages":
        if name in MESSAGE_LEVELS:
            yield from _arguments(call, (1,), ("message",))
        elif name == "add_message":
            yield from _arguments(call, (2,), ("message",))
    if name in SINKS:
        yield from _arguments(call, *SINKS[name])
    if name.endswith(("Field", "Widget", "Input", "Select", "Textarea")) or name == "CheckboxInput":
        yield from _field_texts(call, named)


class _Visitor(ast.NodeVisitor):
    def __init__(self, named: dict[str, ast.expr]) -> None:
        self.found: list[_Finding] = []
        self.functions: list[str] = []
        self.named = named

    def _add(self, node: ast.expr | None) -> None:
        finding = _unmarked(node)
        if finding and finding not in self.found:  # a table both named and handed to a field
            self.found.append(finding)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 (ast's naming)

    def visit_Call(self, node: ast.Call) -> None:
        if _name(node.func) in MARKERS:
            return  # marked: nothing inside needs a look
        for argument in _call_texts(node, self.named):
            self._add(argument)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        # Django's TextChoices / IntegerChoices: each member is (value, label).
        if any(_name(base).endswith("Choices") for base in node.bases):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                    self._add(statement.value.elts[-1] if len(statement.value.elts) > 1 else None)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if any(COMPOSED_NAMES.match(name) for name in names):
            self._add(node.value)
        if any(LABEL_TABLES.match(name) for name in names):
            if isinstance(node.value, ast.Dict):
                for value in node.value.values:
                    self._add(value)
            else:
                for label in _choice_labels(node.value, {}):
                    self._add(label)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if self.functions and COMPOSED_NAMES.match(self.functions[-1].lstrip("_")):
            self._add(node.value)
        self.generic_visit(node)


def unmarked_in(source: str, path: str = "") -> list[Unmarked]:
    tree = ast.parse(source)
    named = {target.id: node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
             for target in node.targets if isinstance(target, ast.Name)}
    visitor = _Visitor(named)
    visitor.visit(tree)
    return [Unmarked(path, f.line, f.text) for f in sorted(visitor.found, key=lambda f: f.line)
            if (path, f.text) not in ALLOWED]


def unmarked_modules(package: Path) -> list[Unmarked]:
    """Every unmarked user-visible literal in the modules under `package` (migrations, which
    only record a model's state, are left out)."""
    found: list[Unmarked] = []
    base = package.parent
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found += unmarked_in(path.read_text(encoding="utf-8"), str(path.relative_to(base)))
    return found
