//! The channel an answer travels on, so the first sentence can be spoken while the rest is made.
//!
//! An engine returns a [`ReplyStream`] at once and produces events into its [`ReplySender`]
//! (from a spawned task for an LLM or a remote bot, or all at once for the FAQ engine). The
//! answer ends when every sender is dropped. Dropping the stream (the caller barged in) makes
//! the next [`ReplySender::send`] fail, which tells the producer to stop working.

use std::task::{Context, Poll};

use tokio::sync::mpsc;

use super::reply_event::ReplyEvent;

/// How many events a producer may run ahead of the consumer before `send` waits.
pub const DEFAULT_REPLY_BUFFER: usize = 32;

/// The consuming end of an answer: events in order, `None` once the answer is complete.
#[derive(Debug)]
pub struct ReplyStream {
    events: mpsc::Receiver<ReplyEvent>,
}

/// The producing end of an answer. Cloneable; the answer ends when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct ReplySender {
    events: mpsc::Sender<ReplyEvent>,
}

/// The consumer dropped the [`ReplyStream`] (barge-in, hang-up): stop producing this answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reply stream was dropped (caller barged in or hung up); stop producing this answer")]
pub struct ReplyStreamClosed;

impl ReplyStream {
    /// A connected sender and stream; `buffer` (at least 1) bounds how far the sender runs ahead.
    pub fn channel(buffer: usize) -> (ReplySender, ReplyStream) {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        (ReplySender { events: tx }, ReplyStream { events: rx })
    }

    /// A stream that already holds its whole answer and is closed (no task, no runtime needed).
    pub fn ready(events: Vec<ReplyEvent>) -> ReplyStream {
        let (tx, rx) = mpsc::channel(events.len().max(1));
        for event in events {
            // Cannot fail: the buffer holds every event and the receiver is alive right here.
            let _ = tx.try_send(event);
        }
        ReplyStream { events: rx }
    }

    /// The next event, or `None` when the answer is complete.
    pub async fn next(&mut self) -> Option<ReplyEvent> {
        self.events.recv().await
    }

    /// Poll form of [`next`](Self::next), for adapting to `futures::Stream` or a hand-written future.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<ReplyEvent>> {
        self.events.poll_recv(cx)
    }

    /// An event that is already available, without waiting: `Ok(None)` when the answer is
    /// complete, `Err(Pending)` when the producer has not sent the next one yet.
    pub fn try_next(&mut self) -> Result<Option<ReplyEvent>, Pending> {
        match self.events.try_recv() {
            Ok(event) => Ok(Some(event)),
            Err(mpsc::error::TryRecvError::Disconnected) => Ok(None),
            Err(mpsc::error::TryRecvError::Empty) => Err(Pending),
        }
    }

    /// Waits for the whole answer (tests, the `kb` CLI, logs).
    pub async fn collect(mut self) -> Vec<ReplyEvent> {
        let mut all = Vec::new();
        while let Some(event) = self.next().await {
            all.push(event);
        }
        all
    }
}

/// [`ReplyStream::try_next`] found no event yet, but the answer is not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending;

impl ReplySender {
    /// Sends the next event, waiting while the consumer is `buffer` events behind.
    pub async fn send(&self, event: ReplyEvent) -> Result<(), ReplyStreamClosed> {
        self.events.send(event).await.map_err(|_| ReplyStreamClosed)
    }

    /// True once the consumer has dropped the stream: the producer can stop early.
    pub fn is_closed(&self) -> bool {
        self.events.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn ready_stream_yields_events_in_order_then_ends() {
        let mut stream = ReplyStream::ready(vec![
            ReplyEvent::sentence("one", Lang::En),
            ReplyEvent::sentence("two", Lang::En),
        ]);
        assert_eq!(
            stream.try_next(),
            Ok(Some(ReplyEvent::sentence("one", Lang::En)))
        );
        assert_eq!(
            stream.try_next(),
            Ok(Some(ReplyEvent::sentence("two", Lang::En)))
        );
        assert_eq!(stream.try_next(), Ok(None));
    }

    #[tokio::test]
    async fn consumer_sees_first_event_before_producer_finishes() {
        let (tx, mut stream) = ReplyStream::channel(4);
        let (go_on, wait) = tokio::sync::oneshot::channel::<()>();
        let producer = tokio::spawn(async move {
            tx.send(ReplyEvent::sentence("first", Lang::En)).await?;
            // The second sentence is only produced after the consumer has seen the first.
            let _ = wait.await;
            tx.send(ReplyEvent::sentence("second", Lang::En)).await
        });
        assert_eq!(
            stream.next().await,
            Some(ReplyEvent::sentence("first", Lang::En))
        );
        assert_eq!(stream.try_next(), Err(Pending));
        let _ = go_on.send(());
        assert_eq!(
            stream.next().await,
            Some(ReplyEvent::sentence("second", Lang::En))
        );
        assert_eq!(stream.next().await, None);
        assert_eq!(producer.await.ok(), Some(Ok(())));
    }

    #[tokio::test]
    async fn dropping_the_stream_tells_the_producer_to_stop() {
        let (tx, stream) = ReplyStream::channel(1);
        assert!(!tx.is_closed());
        drop(stream);
        assert!(tx.is_closed());
        assert_eq!(
            tx.send(ReplyEvent::sentence("late", Lang::En)).await,
            Err(ReplyStreamClosed)
        );
    }
}
