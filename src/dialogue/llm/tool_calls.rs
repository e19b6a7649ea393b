//! Reassembles the tool calls a model streams in fragments.
//!
//! A call's `id` and function `name` usually come only in its first delta, its `arguments`
//! JSON in many fragments after. Servers disagree on the rest: some repeat the id, vLLM may
//! send empty or no ids, some send every call with `index` 0. So a fragment goes to the call
//! with the same non-empty id; without an id, to the latest call with the same index; with
//! neither, to the latest call. Calls that never got an id get `call_N` so the tool result
//! can still refer to them.

use super::chunk::ToolCallDelta;

/// A complete tool call the model asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the JSON text the model wrote (possibly empty or malformed).
    pub arguments: String,
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    index: Option<u32>,
    name: String,
    arguments: String,
}

/// Collects tool-call deltas in arrival order.
#[derive(Debug, Default)]
pub struct ToolCallAssembler {
    calls: Vec<PartialCall>,
}

impl ToolCallAssembler {
    /// Adds one delta.
    pub fn push(&mut self, delta: &ToolCallDelta) {
        let id = delta.id.as_deref().filter(|id| !id.is_empty());
        let function = delta.function.as_ref();
        let name = function
            .and_then(|f| f.name.as_deref())
            .filter(|n| !n.is_empty());
        let slot = match id {
            Some(id) => self.calls.iter().position(|c| c.id == id).or_else(|| {
                // An id arriving late for a call that started without one (same index, no
                // name yet) belongs to it; otherwise it starts a new call.
                self.calls
                    .iter()
                    .rposition(|c| c.id.is_empty() && c.index == delta.index && c.name.is_empty())
            }),
            None => match delta.index {
                // A new name at an index whose call is already named is a new call.
                Some(index) => self
                    .calls
                    .iter()
                    .rposition(|c| c.index == Some(index))
                    .filter(|&k| {
                        let existing = &self.calls[k].name;
                        name.is_none_or(|n| existing.is_empty() || existing == n)
                    }),
                None if name.is_some() => None,
                None => self.calls.len().checked_sub(1),
            },
        };
        let slot = slot.unwrap_or_else(|| {
            self.calls.push(PartialCall {
                index: delta.index,
                ..PartialCall::default()
            });
            self.calls.len() - 1
        });
        let call = &mut self.calls[slot];
        if let Some(id) = id {
            call.id = id.to_string();
        }
        // Some servers repeat the name in every delta: the first one stands.
        if let Some(name) = name
            && call.name.is_empty()
        {
            call.name = name.to_string();
        }
        match function.and_then(|f| f.arguments.as_ref()) {
            Some(serde_json::Value::String(fragment)) => call.arguments.push_str(fragment),
            Some(serde_json::Value::Null) | None => {}
            Some(whole) => call.arguments.push_str(&whole.to_string()),
        }
    }

    /// The complete calls, in the order they started; calls without a name are dropped.
    pub fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_iter()
            .enumerate()
            .filter(|(_, c)| !c.name.is_empty())
            .map(|(k, c)| ToolCall {
                id: if c.id.is_empty() {
                    format!("call_{k}")
                } else {
                    c.id
                },
                name: c.name,
                arguments: c.arguments,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::llm::chunk::FunctionDelta;

    fn delta(
        index: Option<u32>,
        id: Option<&str>,
        name: Option<&str>,
        args: &str,
    ) -> ToolCallDelta {
        ToolCallDelta {
            index,
            id: id.map(str::to_string),
            function: Some(FunctionDelta {
                name: name.map(str::to_string),
                arguments: Some(serde_json::Value::String(args.to_string())),
            }),
        }
    }

    fn assemble(deltas: &[ToolCallDelta]) -> Vec<(String, String, String)> {
        let mut assembler = ToolCallAssembler::default();
        for d in deltas {
            assembler.push(d);
        }
        assembler
            .finish()
            .into_iter()
            .map(|c| (c.id, c.name, c.arguments))
            .collect()
    }

    fn call(id: &str, name: &str, args: &str) -> (String, String, String) {
        (id.to_string(), name.to_string(), args.to_string())
    }

    #[test]
    fn openai_style_id_and_name_first_then_argument_fragments() {
        let calls = assemble(&[
            delta(Some(0), Some("call_a"), Some("order_status"), ""),
            delta(Some(0), None, None, "{\"order_id\":"),
            delta(Some(0), None, None, "\"2024\"}"),
            delta(Some(1), Some("call_b"), Some("logistics"), "{}"),
        ]);
        assert_eq!(
            calls,
            [
                call("call_a", "order_status", "{\"order_id\":\"2024\"}"),
                call("call_b", "logistics", "{}")
            ]
        );
    }

    #[test]
    fn ids_win_over_an_unreliable_index() {
        // Two calls both sent with index 0 but distinct ids, fragments interleaved by id.
        let calls = assemble(&[
            delta(Some(0), Some("a"), Some("one"), "{\"x\":"),
            delta(Some(0), Some("b"), Some("two"), "{\"y\":"),
            delta(Some(0), Some("a"), None, "1}"),
            delta(Some(0), Some("b"), None, "2}"),
        ]);
        assert_eq!(
            calls,
            [call("a", "one", "{\"x\":1}"), call("b", "two", "{\"y\":2}")]
        );
    }

    #[test]
    fn missing_or_empty_ids_route_by_index_and_get_generated_ids() {
        let calls = assemble(&[
            delta(Some(0), Some(""), Some("one"), ""),
            delta(Some(1), None, Some("two"), ""),
            delta(Some(0), None, None, "{\"x\":1}"),
            delta(Some(1), None, None, "{\"y\":2}"),
            delta(None, None, None, ""),
        ]);
        assert_eq!(
            calls,
            [
                call("call_0", "one", "{\"x\":1}"),
                call("call_1", "two", "{\"y\":2}")
            ]
        );
    }

    #[test]
    fn a_new_name_at_a_reused_index_starts_a_new_call() {
        let calls = assemble(&[
            delta(Some(0), None, Some("one"), "{}"),
            delta(Some(0), None, Some("two"), "{}"),
        ]);
        assert_eq!(
            calls,
            [call("call_0", "one", "{}"), call("call_1", "two", "{}")]
        );
    }
}
