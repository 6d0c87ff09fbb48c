"""The base URL: only https (http to local addresses), one canonical spelling."""

import pytest

from custom_components.ecostruxure.api.urls import (
    InsecureBaseUrlError,
    InvalidBaseUrlError,
    normalize_base_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example.com/fe/v1/", "https://api.example.com/fe/v1"),
        ("  HTTPS://API.Example.COM/FE/v1  ", "https://api.example.com/FE/v1"),  # path kept
        ("https://api.example.com:8443", "https://api.example.com:8443"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api"),
        ("HTTP://LOCALHOST:8080/api", "http://localhost:8080/api"),
        ("Http://192.168.1.20/api", "http://192.168.1.20/api"),
        ("http://10.0.0.5:80/api", "http://10.0.0.5:80/api"),
        ("http://[::1]:8080/api", "http://[::1]:8080/api"),
        ("http://[FD00::1]/api", "http://[fd00::1]/api"),
    ],
)
def test_accepted_urls_are_put_in_one_form(url: str, expected: str) -> None:
    assert normalize_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.com/fe",  # the secrets in clear text over the internet
        "http://8.8.8.8/api",
        "http://localhost.example.com/api",  # a name, not the loopback
        "http://192.168.1.20.nip.io/api",
    ],
)
def test_plain_http_beyond_the_local_network_is_refused(url: str) -> None:
    with pytest.raises(InsecureBaseUrlError):
        normalize_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2@api.example.com/fe",
        "https://user@api.example.com/fe",
        "https://api.example.com/fe?x=1",
        "https://api.example.com/fe?",
        "https://api.example.com/fe#frag",
        "ftp://api.example.com/fe",
        "file:///etc/passwd",
        "api.example.com/fe",
        "https:///fe",
        "https://api.example.com:99999/fe",
        "https://api.example.com:port/fe",
        "https://api example.com/fe",
        "",
    ],
)
def test_unusable_urls_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(InvalidBaseUrlError) as caught:
        normalize_base_url(url)
    assert "hunter2" not in str(caught.value)
    assert "user" not in str(caught.value)
