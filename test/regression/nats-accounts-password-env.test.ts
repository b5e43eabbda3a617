/**
 * Regression: the least-privilege tests failed in CI about one run in eight. Their random
 * passwords sometimes started with a digit or "-", nats-server parsed the environment
 * variable's value as a number ("variable reference ... could not be parsed") and refused
 * to start. deploy/nats-accounts.conf now tells users to put double quotes inside the
 * value, and the tests do so. This test uses exactly the passwords that broke it, and the
 * bcrypt form the config recommends (bare, "$2b$..." is read as a reference to variable "2b").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { startWithAccounts } from "../ops/accounts.js";

test("regression - account passwords starting with a digit, '-' or holding '#' start the server and authenticate", async () => {
  const pw = {
    FPM_RELAY_PASSWORD: "8G5V6gaufN5ZCGO7fobuEb4M",
    FPM_PLANNER_PASSWORD: "-aY5kPItr-QSHqKoCjMa2IxT",
    FPM_ACTUATOR_PASSWORD: "12 # not a comment",
  };
  const server = await startWithAccounts(pw);
  try {
    for (const [user, pass] of [
      ["fpm-relay", pw.FPM_RELAY_PASSWORD],
      ["fpm-planner", pw.FPM_PLANNER_PASSWORD],
      ["fpm-actuator", pw.FPM_ACTUATOR_PASSWORD],
    ] as const) {
      const nc = await connect({ servers: server.url, user, pass, reconnect: false });
      await nc.close();
    }
    // The quotes are config syntax, not part of the password.
    await assert.rejects(
      connect({ servers: server.url, user: "fpm-relay", pass: `"${pw.FPM_RELAY_PASSWORD}"`, reconnect: false }),
      /Authorization/i,
    );
  } finally {
    await server.cleanup();
  }
});

test("regression - a bcrypt hash in the environment, quoted as documented, authenticates its password", async () => {
  // bcrypt (cost 10) of the test-only password below, made with Python's bcrypt package.
  const hash = "$2b$10$cwXK.qJIZYsPCaNUmzjIUuKW7079bke58dYA2SjUektRaDgy9d8X.";
  const pw = { FPM_RELAY_PASSWORD: "3-digit-first-bcrypt-test", FPM_PLANNER_PASSWORD: "p", FPM_ACTUATOR_PASSWORD: "a" };
  const server = await startWithAccounts(pw, { FPM_RELAY_PASSWORD: hash });
  try {
    const nc = await connect({ servers: server.url, user: "fpm-relay", pass: pw.FPM_RELAY_PASSWORD, reconnect: false });
    await nc.close();
    await assert.rejects(
      connect({ servers: server.url, user: "fpm-relay", pass: hash, reconnect: false }),
      /Authorization/i,
    );
  } finally {
    await server.cleanup();
  }
});
