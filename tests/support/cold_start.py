"""A function's cold start as Lambda makes it: its deployed environment, no settings read yet."""

from __future__ import annotations

from types import ModuleType

import pytest

from background_posting import config
from background_posting.function_settings import EveryFunctionSettings
from infra.lambda_runtime import LocalFunction
from infra.resources import function_environment, placeholder_attributes
from infra.template import functions, parameter_defaults, pseudo_parameters

# Every environment variable a function's settings read
SETTING_NAMES = sorted(
    str(field.validation_alias) for field in EveryFunctionSettings.model_fields.values()
)


def deployed_environment(logical_id: str) -> dict[str, str]:
    """The environment the template gives the function (placeholder names for resources)."""
    parameters = pseudo_parameters() | parameter_defaults()
    return function_environment(functions()[logical_id], placeholder_attributes(), parameters)


def cold_start(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> None:
    """Of the names settings read, only `environment`'s are set, and no settings are in use."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(config, "_current", None)


def import_handler(logical_id: str) -> ModuleType:
    """A fresh copy of the function's handler module, imported as Lambda imports it."""
    return LocalFunction(functions()[logical_id])._new_instance()
