"""template.yaml as data: CloudFormation tags loaded as intrinsics, resolved against local values."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"

#: Values put into the local secrets: obviously fake, never usable anywhere else.
LOCAL_NORCE_CLIENT_ID = "local-client"
LOCAL_NORCE_CLIENT_SECRET = "local-secret-not-real"  # noqa: S105 - fake local credential
LOCAL_WEBHOOK_SECRET = "local-webhook-secret-not-real"  # noqa: S105 - fake local credential
#: Basic auth Norce (the emulator) uses on POST /orders, and the ERP on POST /orders/answers.
LOCAL_ORDER_USERNAME = "norce"
LOCAL_ORDER_PASSWORD = "local-order-password-not-real"  # noqa: S105 - fake local credential
LOCAL_ERP_USERNAME = "erp"
LOCAL_ERP_PASSWORD = "local-erp-password-not-real"  # noqa: S105 - fake local credential


class TemplateError(ValueError):
    """The template uses something the local stack cannot reproduce."""


class _NoValue:
    """``AWS::NoValue``: the property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


# --- loading ------------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that turns short-form intrinsics (``!Ref X``) into their long form (``{"Ref": "X"}``)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: str | Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml as plain dicts/lists, intrinsics in long form."""
    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path}: not a CloudFormation template")
    return document


# --- intrinsics ---------------------------------------------------------------------------------


@dataclass
class Resolver:
    """Resolves the intrinsics the template's data resources use, against local values.

    ``refs``/``attributes`` are filled in as resources are created; parameters take their template
    default unless overridden.
    """

    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    pseudo: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)

    def parameter(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        spec = self.template.get("Parameters", {}).get(name)
        if spec is None:
            raise TemplateError(f"unknown parameter {name}")
        if "Default" not in spec:
            raise TemplateError(f"parameter {name} has no default; pass a local value")
        return spec["Default"]

    def condition(self, name: str) -> bool:
        try:
            expression = self.template["Conditions"][name]
        except KeyError:
            raise TemplateError(f"unknown condition {name}") from None
        return self._truth(expression)

    def _truth(self, expression: Any) -> bool:
        (function, args), *_ = expression.items()
        if function == "Condition":
            return self.condition(args)
        if function == "Fn::Equals":
            left, right = (self.resolve(a) for a in args)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._truth(args[0])
        if function == "Fn::And":
            return all(self._truth(a) for a in args)
        if function == "Fn::Or":
            return any(self._truth(a) for a in args)
        raise TemplateError(f"unsupported condition function {function}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            resolved = [self.resolve(v) for v in value]
            return [v for v in resolved if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), *_ = value.items()
            handler = self._functions().get(key)
            if handler is not None:
                return handler(arg)
        mapping = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in mapping.items() if v is not NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Join": lambda a: str(a[0]).join(str(v) for v in self.resolve(a[1])),
        }

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        raise TemplateError(f"{name} is not created by the local stack")

    def _get_att(self, arg: list[str]) -> str:
        logical, attribute = arg
        try:
            return self.attributes[(logical, attribute)]
        except KeyError:
            raise TemplateError(f"{logical}.{attribute} is not created by the local stack") from None

    def _sub(self, arg: Any) -> str:
        text: str = arg if isinstance(arg, str) else arg[0]
        variables: dict[str, Any] = {} if isinstance(arg, str) else self.resolve(arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self._get_att(name.split(".", 1)))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _if(self, arg: list[Any]) -> Any:
        condition, when_true, when_false = arg
        return self.resolve(when_true if self.condition(condition) else when_false)
