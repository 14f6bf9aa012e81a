/**
 * Runs in every test file (vitest setupFiles). Its afterAll is registered before the file's own hooks,
 * and vitest runs after-hooks last-registered first, so servers and databases a file starts are
 * stopped before their folders go.
 */
import { afterAll } from "vitest";
import { removeTempDirs } from "../helpers/temp.js";

afterAll(removeTempDirs);
