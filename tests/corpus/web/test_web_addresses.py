"""Refusing loopback, private and link-local addresses (the chat's setting; `qa add` turns it off): the check on
addresses, and the fetcher refusing through it before any connection, redirect targets included."""

from __future__ import annotations

import pytest

from corpus.web import addresses
from corpus.web.addresses import checked_addresses, refusal
from corpus.web.fetch import Fetcher, FetchFailed, FetchPolicy

ARTICLE = b"<html><body><article>" + b"<p>Sea otters hold hands while they sleep in the kelp.</p>" * 5 + b"</article></body></html>"


@pytest.mark.parametrize("address, why", [
    ("127.0.0.1", "a loopback address"),
    ("127.8.9.10", "a loopback address"),
    ("::1", "a loopback address"),
    ("10.0.0.7", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fd12:3456:789a::1", "a private address"),
    ("169.254.169.254", "a link-local address"),  # the cloud metadata service
    ("fe80::1%eth0", "a link-local address"),
    ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"),
    ("224.0.0.1", "a multicast address"),
    ("100.64.0.1", "a non-public address"),  # carrier-grade NAT
    ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
    ("::ffff:192.168.0.1", "a private address"),
    ("2002:0a00:0001::1", "a private address"),  # 6to4 around 10.0.0.1
    ("93.184.215.14", None),
    ("2606:4700:4700::1111", None),
])
def test_every_kind_of_non_public_address_is_named(address, why):
    assert refusal(address) == why


def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public():
    resolve = {"news.example": ["93.184.215.14"], "inside.example": ["10.0.0.7"],
               "both.example": ["93.184.215.14", "192.168.0.9"]}
    lookup = lambda host, port: resolve[host]
    assert checked_addresses("news.example", 80, True, lookup) == ["93.184.215.14"]
    with pytest.raises(PermissionError, match=r"inside.example resolves to a private address \(10.0.0.7\)"):
        checked_addresses("inside.example", 80, True, lookup)
    with pytest.raises(PermissionError, match="192.168.0.9"):
        checked_addresses("both.example", 80, True, lookup)
    assert checked_addresses("inside.example", 80, False, lookup) == ["10.0.0.7"]  # the option off: allowed


def test_the_fetcher_refuses_a_loopback_host_without_connecting(site):
    url = site.page("/a.html", ARTICLE)
    with pytest.raises(FetchFailed) as caught:
        Fetcher().fetch(url)  # refuse_private is the default
    assert caught.value.reason == ("refused: 127.0.0.1 is a loopback address; loopback, private and link-local "
                                   "addresses are not fetched here")
    assert site.requests == []  # not even robots.txt was asked for
    assert Fetcher(FetchPolicy(refuse_private=False)).fetch(url).status == 200


def test_the_fetcher_refuses_a_name_resolving_to_a_private_address_before_any_connection():
    # the autouse guard fails the test if any connection to 10.0.0.7 is even tried
    fetcher = Fetcher(FetchPolicy(), resolve=lambda host, port: ["10.0.0.7"])
    with pytest.raises(FetchFailed) as caught:
        fetcher.fetch("http://intranet.example/wiki/secrets.html")
    assert caught.value.reason.startswith("refused: intranet.example resolves to a private address (10.0.0.7)")


def test_a_redirect_to_a_private_address_is_refused(site, monkeypatch):
    # for this test 127.0.0.1 stands for a public site, and 127.0.0.2 stays what it is, a loopback address
    real = addresses.refusal
    monkeypatch.setattr(addresses, "refusal", lambda address: None if address == "127.0.0.1" else real(address))
    site.redirect("/story.html", f"http://127.0.0.2:{site.server.server_address[1]}/admin")
    with pytest.raises(FetchFailed) as caught:
        Fetcher().fetch(site.url("/story.html"))
    assert caught.value.reason.startswith("refused: 127.0.0.2 is a loopback address")
    assert caught.value.reason.endswith(f"(after a redirect to http://127.0.0.2:{site.server.server_address[1]}/admin)")
