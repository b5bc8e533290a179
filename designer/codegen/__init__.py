"""Design -> standalone PyTorch source; compiling is executing that same source."""

from designer.codegen.compile import compile_design, load_source
from designer.codegen.generate import CodegenError, GeneratedCode, generate

__all__ = ["CodegenError", "GeneratedCode", "compile_design", "generate", "load_source"]
