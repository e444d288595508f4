#!/usr/bin/env python3
# TEST-ONLY KEYS. Generates the NATS operator-mode fixtures of tests/worker/connection_test.cpp
# (NatsConnectionAuth.UserCredsFileAgainstAnOperatorModeServer). The seeds it writes are published in this
# repository: never use them, or this script's output, for a real deployment.
#
# There is no `nsc` in the build image, so this writes the nkeys and JWTs itself (Ed25519 via
# python3-cryptography). CI does not run it: the output is committed next to it, and the test
# reads only that. Run it again (from anywhere) only to replace the fixtures:
#
#   python3 tests/worker/data/make_nats_operator.py
#
# Writes, next to this script:
#   nats-operator.conf  server config: the operator JWT inline, and the JWTs of the trusted
#                       account and the system account preloaded into a MEMORY resolver
#   user.creds          a user of the trusted account (JetStream enabled, no limits)
#   untrusted.creds     a user signed by an account the server does not trust (it has no JWT for it)
import base64
import hashlib
import json
import os
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# nkeys prefix bytes (the first base32 character of an encoded key: S, O, A, U).
PREFIX_SEED = 18 << 3
PREFIX_OPERATOR = 14 << 3
PREFIX_ACCOUNT = 0
PREFIX_USER = 20 << 3

UNLIMITED = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True,
             "conn": -1, "leaf": -1, "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}


def crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def with_crc(data: bytes) -> str:
    return b32(data + crc16_xmodem(data).to_bytes(2, "little"))


class NKey:
    def __init__(self, prefix: int):
        self.prefix = prefix
        self.key = Ed25519PrivateKey.generate()

    def public(self) -> str:
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return with_crc(bytes([self.prefix]) + raw)

    def seed(self) -> str:
        raw = self.key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
        # Two prefix bytes: the seed prefix, with the key's type split across both bytes.
        head = bytes([PREFIX_SEED | (self.prefix >> 5), (self.prefix & 31) << 3])
        return with_crc(head + raw)


def jwt(issuer: NKey, subject: NKey, name: str, nats: dict) -> str:
    claims = {"iat": int(time.time()), "iss": issuer.public(), "name": name, "sub": subject.public(), "nats": nats}
    # The jti is only a unique id: a hash of the claims without it.
    claims["jti"] = b32(hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest())
    header = b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = b64url(issuer.key.sign(f"{header}.{body}".encode()))
    return f"{header}.{body}.{signature}"


def account_jwt(operator: NKey, account: NKey, name: str, limits: dict) -> str:
    return jwt(operator, account, name, {"limits": limits, "default_permissions": {"pub": {}, "sub": {}},
                                         "type": "account", "version": 2})


def user_jwt(account: NKey, user: NKey, name: str) -> str:
    return jwt(account, user, name, {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
                                     "type": "user", "version": 2})


def creds(user_token: str, user: NKey) -> str:
    # The layout nsc writes, which the NATS clients parse.
    return (f"-----BEGIN NATS USER JWT-----\n{user_token}\n------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n"
            "NKEYs are sensitive and should be treated as secrets.\n\n"
            f"-----BEGIN USER NKEY SEED-----\n{user.seed()}\n------END USER NKEY SEED------\n\n"
            "*************************************************************\n")


def main() -> None:
    out = os.path.dirname(os.path.abspath(__file__))
    operator, account, user = NKey(PREFIX_OPERATOR), NKey(PREFIX_ACCOUNT), NKey(PREFIX_USER)
    # JetStream does not start in operator mode without a system account (nats-server 2.9:
    # "system account not setup"); it must not have JetStream itself.
    system = NKey(PREFIX_ACCOUNT)
    # An account the server has no JWT for (none is made): its users cannot be verified.
    stranger_account, stranger = NKey(PREFIX_ACCOUNT), NKey(PREFIX_USER)

    operator_token = jwt(operator, operator, "kiln-test-operator",
                         {"system_account": system.public(), "type": "operator", "version": 2})
    account_token = account_jwt(operator, account, "KILN", UNLIMITED)
    no_jetstream = dict(UNLIMITED, mem_storage=0, disk_storage=0, streams=0, consumer=0)
    system_token = account_jwt(operator, system, "SYS", no_jetstream)

    with open(os.path.join(out, "nats-operator.conf"), "w") as f:
        f.write("# TEST-ONLY operator and account, generated by make_nats_operator.py.\n"
                f"operator: {operator_token}\n"
                "resolver: MEMORY\n"
                f"resolver_preload: {{\n  {account.public()}: {account_token}\n"
                f"  {system.public()}: {system_token}\n}}\n")
    with open(os.path.join(out, "user.creds"), "w") as f:
        f.write(creds(user_jwt(account, user, "kiln-worker"), user))
    with open(os.path.join(out, "untrusted.creds"), "w") as f:
        f.write(creds(user_jwt(stranger_account, stranger, "stranger"), stranger))


if __name__ == "__main__":
    main()
