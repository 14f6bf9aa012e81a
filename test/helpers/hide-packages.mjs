/**
 * @module For `node --import`: the packages named in TRIAGE_TEST_HIDE (comma-separated) cannot be found,
 * as in an install without them (a resolve hook answers ERR_MODULE_NOT_FOUND, as Node does).
 */
import { register } from "node:module";

const hooks = `
let hidden = [];
export function initialize(data) { hidden = data.hide; }
export async function resolve(specifier, context, next) {
  if (hidden.some((name) => specifier === name || specifier.startsWith(name + "/"))) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}`;

const hide = (process.env.TRIAGE_TEST_HIDE ?? "").split(",").filter(Boolean);
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { hide } });
