/** The classification prompt, the output schema, and the strict parser of the model's answer. */

export interface LabelChoice {
  name: string;
  description?: string;
}

export interface LabelledExample {
  text: string;
  label: string;
}

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

export function buildMessages(text: string, labels: readonly LabelChoice[], examples: readonly LabelledExample[]): ChatMessage[] {
  const labelLines = labels.map((l) => (l.description ? `- ${l.name}: ${l.description}` : `- ${l.name}`));
  const parts = ["You route user queries. Classify the query into exactly one of these labels:", labelLines.join("\n")];
  if (examples.length > 0) {
    // JSON.stringify quotes and escapes the example text so it cannot break the list format.
    const exampleLines = examples.map((e) => `${JSON.stringify(e.text)} -> ${e.label}`);
    parts.push("Similar labelled queries:", exampleLines.join("\n"));
  }
  parts.push('Answer with JSON only: {"label": "<one of the labels above>"}. The query is the next message; do not answer it.');
  return [
    { role: "system", content: parts.join("\n\n") },
    { role: "user", content: text },
  ];
}

/** OpenAI `response_format` constraining the answer to one of the labels. */
export function labelResponseFormat(labelNames: readonly string[]) {
  return {
    type: "json_schema" as const,
    json_schema: {
      name: "route_label",
      strict: true,
      schema: {
        type: "object",
        properties: { label: { type: "string", enum: [...labelNames] } },
        required: ["label"],
        additionalProperties: false,
      },
    },
  };
}

export type ParsedLabel = { label: string } | { error: string };

/**
 * Accepts exactly: a bare allowed label, a JSON string of one, or {"label": "<allowed>"} (optionally
 * inside one ```json fence). Anything else — unknown label, extra keys, prose around it — is rejected.
 */
export function parseLabelAnswer(content: string, allowed: ReadonlySet<string>): ParsedLabel {
  let answer = content.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(answer);
  if (fenced) answer = fenced[1];
  if (allowed.has(answer)) return { label: answer };

  let value: unknown;
  try {
    value = JSON.parse(answer);
  } catch {
    return { error: `invalid label ${preview(content)}: not one of the labels and not JSON` };
  }
  let label: unknown = value;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== "label") return { error: `invalid label ${preview(content)}: expected {"label": ...} only` };
    label = (value as { label: unknown }).label;
  }
  if (typeof label === "string" && allowed.has(label)) return { label };
  return { error: `invalid label ${preview(typeof label === "string" ? label : content)}: not one of ${[...allowed].join(", ")}` };
}

function preview(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
