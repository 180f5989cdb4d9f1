"""`sam build` of the template as committed, and every built handler imported as Lambda would.

The SAM CLI (.venv-sam, `make install`) builds template.yaml as committed (arm64), then an
x86_64 variant of it (the same template with its architectures rewritten) when this machine
is not arm64. Each built handler is imported in a fresh interpreter that has only the built
function's directory and the built layer on `sys.path` (no site-packages) and only the
environment the built template gives that function, with dummy values where CloudFormation
would put a resource's name or ARN. Builds are kept under .aws-sam/test-<arch>-<hash of the
inputs>, so a rerun with nothing changed imports straight away.

One test does it all, so pytest-xdist runs the build once.
"""

from __future__ import annotations

import platform

from tests.support.sam_build import (
    MACHINE,
    SAM,
    import_built_handler,
    load_built,
    sam_build,
)

API_ONLY = {
    "background_posting.services.document_service",
    "background_posting.domain.document_input",
    "background_posting.domain.printout",
    "background_posting.function_settings",
    "background_posting.http.app",
}
"""What the API alone uses (entry, printing, its settings); docs/performance.md, cold start."""


def test_the_template_builds_and_every_built_handler_imports_from_the_built_layer() -> None:
    assert SAM.exists(), f"no SAM CLI at {SAM}: `make install` installs it"
    committed = sam_build("arm64")
    arm64_layer = committed / "CommonLayer" / "python"
    assert list(arm64_layer.glob("pydantic_core/*aarch64*.so")), "the arm64 layer has arm64 code"

    machine = MACHINE.get(platform.machine(), platform.machine())
    built = committed if machine == "arm64" else sam_build(machine)
    template = load_built(built / "template.yaml")
    layer = built / "CommonLayer" / "python"
    uncompiled = [
        path.relative_to(layer)
        for path in layer.rglob("*.py")
        if not (path.parent / "__pycache__" / f"{path.stem}.cpython-311.pyc").exists()
    ]
    assert not uncompiled, f"the layer ships .py without bytecode: {uncompiled[:5]}"
    # unchecked-hash bytecode (flags 0b01): the zip's 2-second times cannot make it stale
    flags = {
        int.from_bytes(pyc.read_bytes()[4:8], "little") for pyc in layer.rglob("*.cpython-311.pyc")
    }
    assert flags == {1}, f"bytecode flags {flags}: compile with --invalidation-mode unchecked-hash"

    handlers = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert len(handlers) == 6
    for logical_id in handlers:
        loaded = import_built_handler(built, template, logical_id)
        assert "handler" in loaded and "background_posting" in loaded, (logical_id, loaded)
        if logical_id in ("PostingWorkerFunction", "TaxCommitFunction"):
            # every module costs a worker's cold start: none of what only the API uses
            assert not API_ONLY & set(loaded), (logical_id, sorted(API_ONLY & set(loaded)))
