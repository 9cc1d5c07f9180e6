import { randomBytes } from "node:crypto";
import { createDb } from "@osmynt/db";
import { Redis } from "ioredis";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { backend, serviceUrls } from "./backend.js";

/**
 * On the services backend: one fresh database per run (migrated once, dropped at the end) and a
 * Redis channel prefix of its own, so runs never see each other. Unreachable services fail the
 * run with a message saying which one; they are never skipped.
 */
export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  project.provide("redisPrefix", `osmynt-test-${runId}`);
  if (backend === "embedded") {
    project.provide("databaseUrl", null);
    project.provide("redisUrl", null);
    return;
  }

  const admin = postgres(serviceUrls.database, {
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
  try {
    await admin`select 1`;
  } catch (error) {
    await admin.end({ timeout: 1 }).catch(() => {});
    throw new Error(`test:services needs PostgreSQL at ${serviceUrls.database} (TEST_DATABASE_URL): ${(error as Error).message}`);
  }
  const redis = new Redis(serviceUrls.redis, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    await admin.end({ timeout: 1 });
    throw new Error(`test:services needs Redis at ${serviceUrls.redis} (TEST_REDIS_URL): ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }

  const dbName = `osmynt_test_${runId}`;
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(serviceUrls.database);
  url.pathname = `/${dbName}`;
  const database = await createDb({ url: url.toString(), maxConnections: 2 });
  await database.migrate();
  await database.close();
  project.provide("databaseUrl", url.toString());
  project.provide("redisUrl", serviceUrls.redis);

  return async () => {
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
  };
}
