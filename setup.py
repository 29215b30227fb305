"""The compiled modules, declared here as setuptools reads them (pyproject.toml has the rest).

Both are for the speed of the EU DCC verifier, and the tests hold each to a reference:

- ``borderpass.kit.signing._native`` (src/borderpass/kit/signing/_native.c): Base45,
  inflating, plain CBOR, COSE_Sign1 and ES256's DER signature; held to the ``base45``
  package, Python's zlib, cbor2 and cryptography. It needs zlib's headers (Debian's
  zlib1g-dev).
- ``borderpass.worldcodes._dccplain`` (src/borderpass/worldcodes/_dccplain.c): the plain
  form of a DCC payload; held to the DCC JSON schema's validator.
"""

from setuptools import Extension, setup

# A function used before it is declared is an error, not a warning and a failed import.
_STRICT = ["-Werror=implicit-function-declaration"]

setup(ext_modules=[
    Extension("borderpass.kit.signing._native", ["src/borderpass/kit/signing/_native.c"],
              libraries=["z"], extra_compile_args=_STRICT),
    Extension("borderpass.worldcodes._dccplain", ["src/borderpass/worldcodes/_dccplain.c"],
              extra_compile_args=_STRICT),
])
