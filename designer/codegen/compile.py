"""Compile a design by executing its generated source, so the app runs exactly the code users
export. The source is registered in linecache under a stable file name, so tracebacks,
`inspect.getsource` and TorchScript all see it."""

from __future__ import annotations

import hashlib
import linecache
import sys
import types

from designer.codegen.generate import GeneratedCode, generate
from designer.core.design import Design


def load_source(source: str, stem: str) -> types.ModuleType:
    """Execute generated source as a real module (in sys.modules, source in linecache)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    mod_name = f"netdesigner_generated_{stem}_{digest}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    filename = f"<netdesigner:{stem}_{digest}.py>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(mod_name)
    module.__file__ = filename
    code = compile(source, filename, "exec")
    sys.modules[mod_name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - compiling a design is running its generated code
    except BaseException:
        del sys.modules[mod_name]
        raise
    return module


def compile_design(design: Design, code: GeneratedCode | None = None):
    """A fresh torch.nn.Module for the design (raises CodegenError if it has problems)."""
    code = code or generate(design)
    return load_source(code.source, code.class_name).build_model()
