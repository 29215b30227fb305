"""The one compiled module, declared here as setuptools reads it (pyproject.toml has the rest).

``borderpass.kit.signing._native``: Base45, inflating, plain CBOR, COSE_Sign1 and ES256's
DER signature in C, for the speed of the EU DCC verifier (src/borderpass/kit/signing/
_native.c). The tests hold it to references: the ``base45`` package, Python's zlib, cbor2,
cryptography. It needs zlib's headers (Debian's zlib1g-dev).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("borderpass.kit.signing._native",
                             ["src/borderpass/kit/signing/_native.c"], libraries=["z"])])
