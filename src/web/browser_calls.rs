//! Browser calls as the web layer runs them: each answered offer becomes a call driven with the
//! shared engine, its notices become widget messages on the call's data channel, and the call
//! is findable by id until it ends (for `DELETE /webrtc/calls/{id}`). A call transferred to an
//! agent goes on after the bot's part: the page hears `ended` (`transferred`) only once the
//! visitor or the agent has hung up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;

use super::widget_events::{SETTLE, WidgetEvents};
use crate::call::{CallChannel, CallEnd, CallNoticeKind, CallOptions, CallServices, spawn_call};
use crate::channel::webrtc::{BrowserCall, BrowserHangUp, EndpointError, WebRtcEndpoint};
use crate::lang::Lang;
use crate::lifecycle::CallPermit;

/// The browser calls of one server.
pub struct BrowserCalls {
    pub endpoint: WebRtcEndpoint,
    services: Arc<CallServices>,
    live: Mutex<HashMap<String, BrowserHangUp>>,
}

impl BrowserCalls {
    pub fn new(endpoint: WebRtcEndpoint, services: Arc<CallServices>) -> Self {
        Self {
            endpoint,
            services,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Answers `offer` and starts the call, which holds `line` until it ends (or never
    /// connects); returns its id and the SDP answer.
    pub async fn start(
        self: &Arc<Self>,
        offer: &[u8],
        lang: Option<Lang>,
        line: CallPermit,
    ) -> Result<(String, String), EndpointError> {
        let BrowserCall {
            leg,
            answer_sdp,
            page_messages,
            hang_up,
            mut connected,
        } = self.endpoint.answer(offer).await?;
        let call_id = leg.id.clone();
        self.lock().insert(call_id.clone(), hang_up.clone());
        // Subscribe before the driver starts, so the widget misses nothing.
        let notices = self.services.notices.subscribe();
        let ready = serde_json::json!({
            "type": "ready",
            "call": call_id,
            "lang": lang.map_or("auto".to_string(), |l| l.to_string()),
        })
        .to_string();
        let _ = page_messages.try_send(ready);
        let calls = Arc::clone(self);
        let id = call_id.clone();
        let services = Arc::clone(&self.services);
        let connect_timeout =
            Duration::from_secs(self.endpoint.config().connect_timeout_secs.max(1));
        tokio::spawn(async move {
            // The greeting waits for the media path; a call that never connects is dropped
            // (its connection keeper gives it up at the same timeout).
            let up = tokio::time::timeout(connect_timeout, connected.wait_for(|c| *c))
                .await
                .is_ok_and(|up| up.is_ok());
            if up {
                let options = CallOptions {
                    lang,
                    channel: CallChannel::Browser,
                };
                let driver = spawn_call(services, leg, options);
                forward_notices(&id, notices, &page_messages, &hang_up).await;
                let _ = driver.await;
            }
            calls.lock().remove(&id);
            drop(line);
        });
        Ok((call_id, answer_sdp))
    }

    /// Ends call `id`; false when there is no such call (or it has ended).
    pub fn hang_up(&self, id: &str) -> bool {
        match self.lock().get(id) {
            Some(hang_up) => {
                hang_up.hang_up();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, BrowserHangUp>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sends call `id`'s notices to its page as widget messages until the call ends (for a call
/// handed to an agent, until `call` says the agent's part is over too).
async fn forward_notices(
    id: &str,
    mut notices: broadcast::Receiver<crate::call::CallNotice>,
    page: &tokio::sync::mpsc::Sender<String>,
    call: &BrowserHangUp,
) {
    let mut widget = WidgetEvents::default();
    loop {
        let received = if widget.is_settling() {
            tokio::select! {
                received = notices.recv() => received,
                () = tokio::time::sleep(SETTLE) => {
                    for message in widget.settle() {
                        let _ = page.try_send(message);
                    }
                    continue;
                }
            }
        } else {
            notices.recv().await
        };
        let notice = match received {
            Ok(notice) => notice,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(call = %id, missed, "widget captions fell behind; some were skipped");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if &*notice.call_id != id {
            continue;
        }
        let ended = matches!(notice.kind, CallNoticeKind::Ended { .. });
        if matches!(
            notice.kind,
            CallNoticeKind::Ended {
                end: CallEnd::Transferred,
                ..
            }
        ) {
            // The visitor is talking to the agent; the page would hang up on `ended`.
            call.closed().await;
        }
        for message in widget.on_notice(&notice.kind) {
            // A page that stopped reading loses captions, never the call.
            let _ = page.try_send(message);
        }
        if ended {
            return;
        }
    }
}
