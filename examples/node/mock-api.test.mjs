// How a Node test suite uses mock-api, with node's own test runner (Node 18 or later):
//   node --test examples/node/
// Point MOCK_API_BIN at the binary (default: target/debug/mock-api, as `cargo build` leaves it).

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const binary =
  process.env.MOCK_API_BIN ??
  fileURLToPath(new URL("../../target/debug/mock-api", import.meta.url));

let server;
let base;

before(async () => {
  server = spawn(binary, ["--port", "0", "--seed", "42"], { stdio: ["ignore", "pipe", "inherit"] });
  // The first line is printed once the socket accepts connections.
  const [line] = await once(createInterface({ input: server.stdout }), "line");
  assert.match(line, /^mock-api listening on /);
  base = line.split(" ").at(-1);
});

after(() => server.kill());

// Every test starts from the seed data, with no stubs, faults or journal.
beforeEach(async () => {
  const response = await fetch(`${base}/__admin/reset`, { method: "POST" });
  assert.equal(response.status, 204);
});

async function admin(method, path, body) {
  const response = await fetch(`${base}/__admin${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
}

test("a stub answers, and its calls are verified", async () => {
  const stub = await admin("POST", "/stubs", {
    request: { method: "POST", path: "/api/payments", body: { currency: "EUR" } },
    response: { status: 202, body: { id: "p-1", state: "pending" } },
  });
  assert.equal(stub.status, 201);

  const paid = await fetch(`${base}/api/payments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ amount: 10, currency: "EUR" }),
  });
  assert.equal(paid.status, 202);
  assert.deepEqual(await paid.json(), { id: "p-1", state: "pending" });

  const verdict = await admin("POST", `/stubs/${stub.body.id}/verify`, { exactly: 1 });
  assert.ok(verdict.body.pass, verdict.body.message);
});

test("a strict stub must fit the document", async () => {
  // A hand-written stub the API's document forbids is refused, with the reasons.
  const refused = await admin("POST", "/stubs", {
    strict: true,
    request: { method: "GET", path: "/api/nothing" },
    response: { status: 200, body: {} },
  });
  assert.equal(refused.status, 409);
  assert.match(refused.body.error, /no operation of the document is GET \/api\/nothing/);
});

test("a retry meets a failure, then a success", async () => {
  const stub = await admin("POST", "/stubs", {
    request: { method: "POST", path: "/api/payments" },
    responses: [{ status: 503, body: { error: "busy" } }, { status: 201, body: { id: "p-1" } }],
  });
  assert.equal(stub.status, 201);
  const statuses = [];
  for (let i = 0; i < 2; i++) {
    statuses.push((await fetch(`${base}/api/payments`, { method: "POST" })).status);
  }
  assert.deepEqual(statuses, [503, 201]);
});

test("a template echoes the request", async () => {
  await admin("POST", "/stubs", {
    request: { method: "GET", path: "/api/orders/{id}" },
    response: { body: { id: "{{ path.id }}", expand: "{{ query.expand }}" } },
  });
  const order = await fetch(`${base}/api/orders/o-9?expand=items`);
  assert.deepEqual(await order.json(), { id: "o-9", expand: "items" });
});

test("a miss names the nearest stub in its 404", async () => {
  await admin("POST", "/stubs", {
    name: "page two",
    request: { method: "GET", path: "/api/orders", query: { page: "2" } },
    response: { body: { orders: [] } },
  });
  const miss = await fetch(`${base}/api/orders?page=1`);
  assert.equal(miss.status, 404);
  const body = await miss.json();
  assert.equal(body.nearest_stub.name, "page two");
});

test("a request no stub matches is listed with the nearest stub", async () => {
  await admin("POST", "/stubs", {
    name: "euro payments",
    request: { method: "POST", path: "/api/payments", body: { currency: "EUR" } },
    response: { status: 202 },
  });
  await fetch(`${base}/api/payments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ currency: "USD" }),
  });
  const unmatched = await admin("GET", "/requests/unmatched");
  assert.equal(unmatched.body.requests.length, 1);
  const nearest = unmatched.body.requests[0].nearest;
  assert.equal(nearest.name, "euro payments");
  assert.deepEqual(nearest.reasons, ['body/currency: expected "EUR", got "USD"']);
});

test("faults reach the client: a status, a delay, a reset", async () => {
  const unavailable = await fetch(`${base}/health`, { headers: { Prefer: "status=503" } });
  assert.equal(unavailable.status, 503);
  assert.equal((await unavailable.json()).code, "injected_fault");

  const started = performance.now();
  await (await fetch(`${base}/health`, { headers: { Prefer: "delay=150" } })).json();
  assert.ok(performance.now() - started >= 150);

  await assert.rejects(fetch(`${base}/health`, { headers: { Prefer: "fault=reset" } }));

  // A fault on a route for every caller, through the admin API.
  await admin("POST", "/faults", { path: "/api/users/{id}", fault: "malformed" });
  const users = await (await fetch(`${base}/api/users`)).json();
  const garbled = await fetch(`${base}/api/users/${users.items[0].id}`);
  await assert.rejects(garbled.json(), SyntaxError);
});

test("namespaces keep parallel tests apart", async () => {
  const created = await fetch(`${base}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Mock-Namespace": "suite-a" },
    body: JSON.stringify({ email: "a@example.com", password: "secret1", name: "A" }),
  });
  assert.equal(created.status, 201);
  const inA = await (await fetch(`${base}/api/users`, { headers: { "X-Mock-Namespace": "suite-a" } })).json();
  const inB = await (await fetch(`${base}/api/users`, { headers: { "X-Mock-Namespace": "suite-b" } })).json();
  assert.equal(inA.total, 3);
  assert.equal(inB.total, 2);
});
