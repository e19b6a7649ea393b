//! The company HTTP APIs the LLM may call (`[[dialogue.tools]]`): their declarations for the
//! model, and running a call. A failing API becomes an `{"error": …}` tool result, so the
//! model can tell the caller instead of the answer breaking off.

use std::time::Duration;

use serde_json::{Value, json};

use super::config::{ToolConfig, ToolMethod};
use super::secret_value::{EnvLookup, SecretValue, read_secret};
use super::tool_calls::ToolCall;
use crate::dialogue::engine_load_error::EngineLoadError;

/// Longest API response passed back to the model, in characters.
const MAX_RESULT_CHARS: usize = 4000;

#[derive(Debug)]
struct CompanyTool {
    config: ToolConfig,
    parameters: Value,
    authorization: Option<SecretValue>,
}

/// The declared tools and an HTTP client to call them.
#[derive(Debug)]
pub struct CompanyTools {
    tools: Vec<CompanyTool>,
    http: reqwest::Client,
}

impl CompanyTools {
    /// Checks the declarations and reads their secrets.
    pub fn from_config(
        configs: &[ToolConfig],
        http: reqwest::Client,
        env: EnvLookup<'_>,
    ) -> Result<Self, EngineLoadError> {
        let mut tools = Vec::with_capacity(configs.len());
        for config in configs {
            let bad = |problem: String| EngineLoadError::BadTool {
                tool: config.name.clone(),
                problem,
            };
            if config.name.trim().is_empty()
                || !config
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad(
                    "name must be non-empty ASCII letters, digits, _ or -".to_string()
                ));
            }
            if tools
                .iter()
                .any(|t: &CompanyTool| t.config.name == config.name)
            {
                return Err(bad("the name is declared twice".to_string()));
            }
            reqwest::Url::parse(&fill_template(&config.url, &json!({})).0)
                .map_err(|e| bad(format!("url {:?} is not a URL ({e})", config.url)))?;
            let parameters = match &config.parameters {
                Value::String(text) => serde_json::from_str(text)
                    .map_err(|e| bad(format!("parameters is not valid JSON ({e})")))?,
                other => other.clone(),
            };
            if !parameters.is_object() {
                return Err(bad("parameters is not a JSON object".to_string()));
            }
            let authorization = read_secret(
                &config.auth_header_env,
                &format!("[[dialogue.tools]] {} auth_header_env", config.name),
                env,
            )?;
            tools.push(CompanyTool {
                config: config.clone(),
                parameters,
                authorization,
            });
        }
        Ok(Self { tools, http })
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The `tools` array of a chat-completions request.
    pub fn definitions(&self) -> Vec<Value> {
        self.tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.config.name,
                    "description": t.config.description,
                    "parameters": t.parameters,
                }})
            })
            .collect()
    }

    /// Runs `call` and returns the tool result to send back to the model.
    pub async fn call(&self, call: &ToolCall) -> String {
        let Some(tool) = self.tools.iter().find(|t| t.config.name == call.name) else {
            return json!({"error": format!("there is no tool named {}", call.name)}).to_string();
        };
        let arguments: Value = if call.arguments.trim().is_empty() {
            json!({})
        } else {
            match serde_json::from_str(&call.arguments) {
                Ok(value) => value,
                Err(e) => {
                    return json!({"error": format!("the arguments are not valid JSON: {e}")})
                        .to_string();
                }
            }
        };
        let (url, unused) = fill_template(&tool.config.url, &arguments);
        let mut url = match reqwest::Url::parse(&url) {
            Ok(url) => url,
            Err(e) => return json!({"error": format!("bad URL {url}: {e}")}).to_string(),
        };
        let timeout = Duration::from_millis(tool.config.timeout_ms.max(1));
        let request = match tool.config.method {
            ToolMethod::Get => {
                if !unused.is_empty() {
                    let mut query = url.query_pairs_mut();
                    for (key, value) in &unused {
                        query.append_pair(key, &scalar_text(value));
                    }
                }
                self.http.get(url)
            }
            ToolMethod::Post => self.http.post(url).json(&arguments),
        };
        let request = match &tool.authorization {
            Some(secret) => request.header(reqwest::header::AUTHORIZATION, secret.expose()),
            None => request,
        };
        let started = std::time::Instant::now();
        let response = match request.timeout(timeout).send().await {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(tool = %call.name, error = %e, "company API call failed");
                return json!({"error": format!("the {} service did not answer", call.name)})
                    .to_string();
            }
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        tracing::info!(tool = %call.name, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "company API called");
        let body: String = body.chars().take(MAX_RESULT_CHARS).collect();
        if status.is_success() {
            body
        } else {
            json!({"error": format!("HTTP {}", status.as_u16()), "body": body}).to_string()
        }
    }
}

/// `template` with `{name}` replaced by the percent-encoded argument `name`, and the
/// arguments it did not use.
fn fill_template(template: &str, arguments: &Value) -> (String, Vec<(String, Value)>) {
    let mut url = template.to_string();
    let mut unused = Vec::new();
    if let Some(object) = arguments.as_object() {
        for (key, value) in object {
            let placeholder = format!("{{{key}}}");
            if url.contains(&placeholder) {
                url = url.replace(&placeholder, &percent_encode(&scalar_text(value)));
            } else {
                unused.push((key.clone(), value.clone()));
            }
        }
    }
    (url, unused)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_take_their_arguments_and_leave_the_rest_for_the_query() {
        let (url, unused) = fill_template(
            "https://erp.example.com/orders/{order_id}",
            &json!({"order_id": "2024 11/22", "lang": "yue"}),
        );
        assert_eq!(url, "https://erp.example.com/orders/2024%2011%2F22");
        assert_eq!(unused, [("lang".to_string(), json!("yue"))]);
    }

    #[test]
    fn bad_declarations_are_refused_with_the_tool_named() {
        let env = |_: &str| None;
        let http = reqwest::Client::new();
        let mut tool = ToolConfig {
            name: "order_status".to_string(),
            url: "http://erp/orders/{order_id}".to_string(),
            parameters: json!("{\"type\":\"object\""),
            ..ToolConfig::default()
        };
        let err = CompanyTools::from_config(std::slice::from_ref(&tool), http.clone(), &env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("order_status") && err.contains("JSON"),
            "{err}"
        );
        tool.parameters =
            json!("{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":\"string\"}}}");
        tool.auth_header_env = "ERP_AUTH".to_string();
        let err = CompanyTools::from_config(std::slice::from_ref(&tool), http.clone(), &env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("ERP_AUTH"), "{err}");
        tool.auth_header_env.clear();
        let tools = CompanyTools::from_config(&[tool], http, &env);
        let definitions = tools.map(|t| t.definitions()).unwrap_or_default();
        assert_eq!(
            definitions[0]["function"]["parameters"]["properties"]["order_id"]["type"],
            "string"
        );
    }
}
