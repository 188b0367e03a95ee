"""Certificates for the TLS tests, made with the openssl command at test time (no key is
committed): a test CA, server certificates for localhost / 127.0.0.1 signed by it, client
certificates whose subject CN names a user, and a second CA nobody trusts.

    import tls_certs
    certs = tls_certs.make(directory)      # paths: certs.ca, certs.server_cert, certs.server_key, ...
    cert, key = certs.client("alice")      # a client certificate for CN=alice, signed by the test CA

As a program (for the node tests): ``tls_certs.py DIR`` writes the same files into DIR and
prints their paths as JSON. Not a test file itself."""
import json
import os
import subprocess
import sys

OPENSSL_TIMEOUT = 30


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=OPENSSL_TIMEOUT)


class Certs:
    def __init__(self, directory):
        self.dir = directory
        self.ca, self.ca_key = self._authority("ca", "Roost test CA")
        self.server_cert, self.server_key = self._signed("server", "localhost", server=True)
        # A second server identity (its own key) for reload tests.
        self.other_server_cert, self.other_server_key = self._signed("server2", "localhost", server=True)
        self.rogue_ca, self.rogue_ca_key = self._authority("rogue-ca", "Nobody trusts this CA")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _new_key(self, name):
        key = self.path(name + ".key")
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        return key

    def _authority(self, name, cn):
        key = self._new_key(name)
        cert = self.path(name + ".pem")
        _openssl("req", "-x509", "-new", "-key", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn)
        return cert, key

    def _signed(self, name, cn, server=False, ca=None, ca_key=None):
        key = self._new_key(name)
        csr = self.path(name + ".csr")
        cert = self.path(name + ".pem")
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            if server:
                f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        _openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/O=Roost tests/CN=" + cn)
        _openssl("x509", "-req", "-in", csr, "-CA", ca or self.ca, "-CAkey", ca_key or self.ca_key,
                 "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        return cert, key

    def client(self, cn, trusted=True):
        """A client certificate and key for CN=cn, signed by the test CA (or, trusted=False,
        by the CA the broker does not trust)."""
        name = "client-%s%s" % (cn, "" if trusted else "-rogue")
        if trusted:
            return self._signed(name, cn)
        return self._signed(name, cn, ca=self.rogue_ca, ca_key=self.rogue_ca_key)


def make(directory):
    return Certs(directory)


if __name__ == "__main__":
    certs = make(sys.argv[1])
    alice_cert, alice_key = certs.client("alice")
    json.dump({"ca": certs.ca, "serverCert": certs.server_cert, "serverKey": certs.server_key,
               "aliceCert": alice_cert, "aliceKey": alice_key}, sys.stdout)
