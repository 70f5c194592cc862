"""How a Python test suite uses mock-api: stubs (sequences and templates among them),
verification, faults, documented responses, namespaces."""

import requests


def add_stub(base, stub, **headers):
    response = requests.post(f"{base}/__admin/stubs", json=stub, headers=headers, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def verify(base, stub_id, **expectation):
    response = requests.post(f"{base}/__admin/stubs/{stub_id}/verify", json=expectation, timeout=5)
    response.raise_for_status()
    return response.json()


def test_a_stub_answers_and_is_verified(mock_api):
    stub_id = add_stub(
        mock_api,
        {
            "request": {"method": "GET", "path": "/api/orders/{id}"},
            "response": {"status": 200, "body": {"id": "o-1", "state": "shipped"}},
        },
    )
    assert requests.get(f"{mock_api}/api/orders/o-1", timeout=5).json()["state"] == "shipped"

    verdict = verify(mock_api, stub_id, exactly=1)
    assert verdict["pass"], verdict["message"]
    verdict = verify(mock_api, stub_id, at_least=2)
    assert not verdict["pass"]
    assert "called 1 time, expected at least 2" in verdict["message"]


def test_a_retry_meets_a_failure_then_a_success(mock_api):
    # The first call fails, the second succeeds: a client's retry, tested.
    add_stub(
        mock_api,
        {
            "request": {"method": "POST", "path": "/api/payments"},
            "responses": [
                {"status": 503, "body": {"error": "busy"}},
                {"status": 201, "body": {"id": "p-1"}},
            ],
        },
    )
    first = requests.post(f"{mock_api}/api/payments", json={"amount": 10}, timeout=5)
    second = requests.post(f"{mock_api}/api/payments", json={"amount": 10}, timeout=5)
    assert (first.status_code, second.status_code) == (503, 201)


def test_a_template_echoes_the_request(mock_api):
    add_stub(
        mock_api,
        {
            "request": {"method": "POST", "path": "/api/orders/{id}/notes"},
            "response": {"status": 201, "body": {"order": "{{ path.id }}", "text": "{{ body.text }}"}},
        },
    )
    note = requests.post(f"{mock_api}/api/orders/o-7/notes", json={"text": "hi"}, timeout=5)
    assert note.json() == {"order": "o-7", "text": "hi"}


def test_a_strict_stub_must_fit_the_document(mock_api):
    # A hand-written stub the API's document forbids is refused, with the reasons.
    stub = {
        "strict": True,
        "request": {"method": "GET", "path": "/api/users/{id}"},
        "response": {"status": 200, "body": {"id": 1}},
    }
    refused = requests.post(f"{mock_api}/__admin/stubs", json=stub, timeout=5)
    assert refused.status_code == 409
    assert "does not fit GET /api/users/{id}'s 200" in refused.json()["error"]


def test_a_documented_error_on_request(mock_api):
    users = requests.get(f"{mock_api}/api/users", timeout=5).json()["items"]
    response = requests.get(
        f"{mock_api}/api/users/{users[0]['id']}", headers={"Prefer": "code=404"}, timeout=5
    )
    assert response.status_code == 404
    assert response.json() == {"error": "user not found", "code": "user_not_found"}


def test_a_fault_reaches_the_client(mock_api):
    # A 503 for one request, asked for by the client itself.
    response = requests.get(f"{mock_api}/health", headers={"Prefer": "status=503"}, timeout=5)
    assert response.status_code == 503
    assert response.json()["code"] == "injected_fault"

    # A reset connection, as a flaky network would give.
    try:
        requests.get(f"{mock_api}/health", headers={"Prefer": "fault=reset"}, timeout=5)
    except requests.exceptions.ConnectionError:
        pass
    else:
        raise AssertionError("the connection was not reset")

    # A fault on a built-in route for every caller, until removed.
    rule = {"method": "POST", "path": "/api/auth/login", "status": 500}
    created = requests.post(f"{mock_api}/__admin/faults", json=rule, timeout=5)
    assert created.status_code == 201
    login = {"email": "user@example.com", "password": "user123"}
    assert requests.post(f"{mock_api}/api/auth/login", json=login, timeout=5).status_code == 500
    requests.delete(f"{mock_api}/__admin/faults/{created.json()['id']}", timeout=5)
    assert requests.post(f"{mock_api}/api/auth/login", json=login, timeout=5).status_code == 200


def test_the_journal_records_calls(mock_api):
    requests.get(f"{mock_api}/api/users", params={"search": "admin"}, timeout=5)
    journal = requests.get(
        f"{mock_api}/__admin/requests", params={"path": "/api/users"}, timeout=5
    ).json()
    assert [r["query"] for r in journal["requests"]] == ["search=admin"]


def test_namespaces_keep_parallel_workers_apart(mock_api):
    new_user = {"email": "w1@example.com", "password": "secret1", "name": "Worker One"}
    worker_1 = {"X-Mock-Namespace": "worker-1"}
    created = requests.post(f"{mock_api}/api/users", json=new_user, headers=worker_1, timeout=5)
    assert created.status_code == 201
    seen_by_1 = requests.get(f"{mock_api}/api/users", headers=worker_1, timeout=5).json()
    seen_by_2 = requests.get(
        f"{mock_api}/api/users", headers={"X-Mock-Namespace": "worker-2"}, timeout=5
    ).json()
    assert (seen_by_1["total"], seen_by_2["total"]) == (3, 2)


def test_ids_and_timestamps_repeat(mock_api):
    user = {"email": "same@example.com", "password": "secret1", "name": "Same"}
    first = requests.post(f"{mock_api}/api/users", json=user, timeout=5).json()
    requests.post(f"{mock_api}/__admin/reset", timeout=5).raise_for_status()
    again = requests.post(f"{mock_api}/api/users", json=user, timeout=5).json()
    # --seed and --clock: the same id and the same timestamp after every reset.
    assert first["id"] == again["id"]
    assert first["created_at"] == again["created_at"] == "2026-01-01T00:00:00.000Z"
