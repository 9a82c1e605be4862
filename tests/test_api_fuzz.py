"""Schemathesis fuzzes every operation of the OpenAPI: no input may produce a 500 or break the spec."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from cakupan.registry.tests.factories import make_worker


def _operations() -> list[tuple[str, str]]:
    from cakupan.api import api

    # the prefix the served /api/openapi.json uses (a router mounted at "" joins without a
    # slash under a prefix given by hand: "/apiv1/…")
    spec = api.get_openapi_schema()
    return [(path, method.upper()) for path, ops in spec["paths"].items() for method in ops]


@pytest.fixture
def api_schema(malang, make_user):
    from cakupan.accounts.services import token_create
    from cakupan.apifast import VerifyFastPath
    from cakupan.registry.accesslog import AccessLogBuffer
    from cakupan.wsgi import django_application

    # the application `cakupan serve` runs, its lean verify path included, but with the access
    # log written here, in the test's transaction, instead of by a thread of its own
    log = AccessLogBuffer(interval=None)
    application = VerifyFastPath(django_application, log=log)

    make_worker()
    _t, key = token_create(user=make_user("admin"))
    # Calls go straight to the WSGI app, whose end-of-request signal would close the test's
    # database connection (inside the test transaction); Django's test client does the same.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    yield schema, {"Authorization": f"Bearer {key}"}
    log.flush()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _claim_ids() -> dict[str, str]:
    """A work accident claim whose worker died, with a widow and a child in school (so it has
    scholarship instalments): the claims operations are fuzzed against it, not only 404s."""
    import datetime as dt

    from cakupan.claims.services import claim_file, claim_outcome, party_add
    from cakupan.claims.tests.factories import bill_and_pay, csr_ojol

    member = csr_ojol("2026-09")
    bill_and_pay(member, "2026-09", "2026-10")
    on, day = dt.date(2026, 12, 2), dt.date(2026, 11, 10)
    claim = claim_file(claim_type="jkk", membership=member, event_date=day, user=None, on=on)
    claim_outcome(claim=claim, user=None, death_date=day, on=on)
    party_add(claim=claim, user=None, on=on, full_name="Siti", relation="spouse")
    child = party_add(
        claim=claim,
        user=None,
        on=on,
        full_name="Ani",
        relation="child",
        birth_date=dt.date(2012, 5, 1),
        level="smp",
        year_in_level=2,
    )
    instalment = claim.instalments.order_by("id").first()
    return {
        "number": claim.number,
        "party_id": str(child.pk),
        "instalment_id": str(instalment.pk if instalment else 1),
    }


@pytest.mark.parametrize(("path", "method"), _operations())
def test_api_never_fails_on_any_input(api_schema, path: str, method: str) -> None:
    # Schemathesis's own pytest plugin does not run under pytest 9 yet, so each operation's
    # strategy is driven by hypothesis directly.
    schema, headers = api_schema
    operation = schema[path][method]
    real = _claim_ids() if "/claims/{" in path else {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def fuzz(case) -> None:
        for name, value in real.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{method} {path}: {response.text[:500]}"
        case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])

    fuzz()
