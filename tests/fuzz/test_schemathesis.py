"""Contract fuzzing: Schemathesis against the committed openapi/openapi.json and the app.

Every operation in the spec, as each kind of caller: the victim who owns the diary, a
caseworker with her consent, a service admin (both staff with two-factor on), and nobody.
Seeded and derandomised, with a bounded number of examples per operation (`FUZZ_MAX_EXAMPLES`;
`make fuzz` raises it), each operation on its own fresh database.

What must hold, for every response:
- no server error (5xx);
- the status code, content type, headers and body are the ones the spec documents;
- data the spec calls invalid is refused with a 4xx (JSON bodies, query and path; not
  multipart form fields, whose types do not survive the trip as text);
- an operation the spec marks as needing a bearer token refuses the same request without one;
- a method the resource does not offer gets 405 with an accurate `Allow`.

Not checked: that every schema-valid request succeeds (`positive_data_acceptance`). The spec
cannot say everything the service checks: opaque cursors, the password policy, dates between
1900 and 2200, state such as "start TOTP enrolment first". Those refusals are 4xx problem+json,
which the checks above still verify. Share-link pages (/s/...) and tus uploads (/v1/uploads)
answer HTML, redirects and tus headers that OpenAPI describes only loosely: for them only
"no server error" is enforced.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.fuzz.world import CURRENT, World

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))
CROSS_EXAMPLES = int(os.environ.get("FUZZ_CROSS_EXAMPLES", "3"))
SEED = int(os.environ.get("FUZZ_SEED", "20240301"))
LOOSE_PATHS = ("/s/", "/v1/uploads")
# Staff routes, by the staff role they are for; every other route is the victim's.
STAFF_PATHS = {
    "/v1/organisations": "admin",
    "/v1/caseworker/": "caseworker",
    "/v1/clients": "caseworker",
}
STAFF_REGEX = "^(" + "|".join(STAFF_PATHS) + ")"


def _config(*, examples: int, coverage: bool) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": examples,
                "deterministic": True,
                # Credentials are the test's to give (per role); `ignored_auth` tries without.
                "with-security-parameters": False,
            },
            "checks": {"positive_data_acceptance": {"enabled": False}},
            "phases": {"coverage": {"enabled": coverage}},
        }
    )


def _load(config: SchemathesisConfig) -> Any:
    loaded = schemathesis.openapi.from_path(SPEC, config=config)
    loaded.app = CURRENT
    return loaded


# tus chunks (PATCH /v1/uploads/{id}) are raw bytes, sent as any octet stream is.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
# Each operation as the caller it is for: the coverage phase (boundaries and every kind of
# invalid value, deterministically) and then random examples.
thorough = _load(_config(examples=MAX_EXAMPLES, coverage=True))
# Each operation as the callers it is not for, and anonymously: random examples only.
light = _load(_config(examples=CROSS_EXAMPLES, coverage=False))


def staff_role(path: str) -> str | None:
    return next((role for prefix, role in STAFF_PATHS.items() if path.startswith(prefix)), None)


# A fixture is shared by one operation's examples, on purpose: they act in one world.
FUZZ_SETTINGS = settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    deadline=None,
    database=None,
)


def exercise(case: schemathesis.Case, world: World, role: str) -> None:
    world.aim_at_real_objects(case, role)
    headers = world.headers_for(role)
    if case.path.startswith(LOOSE_PATHS):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
    elif (case.media_type or "").startswith("multipart/"):
        # A form field is text on the wire: a "wrong type" (an empty array vanishes, a number
        # becomes its digits) often arrives as a valid value, so only the rest is checked.
        case.call_and_validate(headers=headers, excluded_checks=[negative_data_rejection])
    else:
        case.call_and_validate(headers=headers)


@thorough.exclude(path_regex=STAFF_REGEX).parametrize()
@FUZZ_SETTINGS
def test_contract_as_the_victim(case: schemathesis.Case, world: World) -> None:
    exercise(case, world, "victim")


@thorough.include(path_regex=STAFF_REGEX).parametrize()
@FUZZ_SETTINGS
def test_contract_as_the_staff_member_it_is_for(case: schemathesis.Case, world: World) -> None:
    role = staff_role(case.path)
    assert role is not None
    exercise(case, world, role)


# Staff ending their own sessions would leave the shared world without them.
for_staff = light.exclude(operation_id=["auth_logout", "sessions_revoke_all"])


@for_staff.parametrize()
@FUZZ_SETTINGS
def test_contract_as_a_caseworker_with_consent(
    case: schemathesis.Case, shared_world: World
) -> None:
    if staff_role(case.path) != "caseworker":
        exercise(case, shared_world, "caseworker")


@for_staff.parametrize()
@FUZZ_SETTINGS
def test_contract_as_a_service_admin(case: schemathesis.Case, shared_world: World) -> None:
    if staff_role(case.path) != "admin":
        exercise(case, shared_world, "admin")


@light.include(path_regex=STAFF_REGEX).parametrize()
@FUZZ_SETTINGS
def test_contract_of_staff_routes_as_the_victim(
    case: schemathesis.Case, shared_world: World
) -> None:
    exercise(case, shared_world, "victim")


@light.parametrize()
@FUZZ_SETTINGS
def test_contract_without_credentials(case: schemathesis.Case, shared_world: World) -> None:
    exercise(case, shared_world, "nobody")
