"""The one compiled module, declared here as setuptools reads it (pyproject.toml has the rest).

``borderpass.kit.signing._native``: Base45, ES256's DER signature and plain CBOR in C, for
the speed of the EU DCC verifier (src/borderpass/kit/signing/_native.c). The tests hold
it to references: the ``base45`` package, cryptography's DER encoding, cbor2.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("borderpass.kit.signing._native",
                             ["src/borderpass/kit/signing/_native.c"])])
