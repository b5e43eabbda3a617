/**
 * Regression: the least-privilege tests failed in CI about one run in eight. Their random
 * passwords sometimes started with a digit or "-", nats-server parsed the environment
 * variable's value as a number ("variable reference ... could not be parsed") and refused
 * to start. deploy/nats-accounts.conf now tells users to put double quotes inside the
 * value, and the tests do so. This test uses exactly the passwords that broke it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { startWithAccounts } from "../ops/accounts.js";

test("regression - account passwords starting with a digit, '-' or holding '#' start the server and authenticate", async () => {
  const pw = { FPM_RELAY_PASSWORD: "8G5V6gaufN5ZCGO7fobuEb4M", FPM_PLANNER_PASSWORD: "-aY5kPItr-QSHqKoCjMa2IxT", FPM_ACTUATOR_PASSWORD: "12 # not a comment" };
  const server = await startWithAccounts(pw);
  try {
    for (const [user, pass] of [["fpm-relay", pw.FPM_RELAY_PASSWORD], ["fpm-planner", pw.FPM_PLANNER_PASSWORD], ["fpm-actuator", pw.FPM_ACTUATOR_PASSWORD]] as const) {
      const nc = await connect({ servers: server.url, user, pass, reconnect: false });
      await nc.close();
    }
    // The quotes are config syntax, not part of the password.
    await assert.rejects(connect({ servers: server.url, user: "fpm-relay", pass: `"${pw.FPM_RELAY_PASSWORD}"`, reconnect: false }), /Authorization/i);
  } finally {
    await server.cleanup();
  }
});
