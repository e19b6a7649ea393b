//! A SIP-over-TCP byte stream cut into messages by Content-Length, the way the screened TCP
//! transport does it: every cut is within the buffer, and each cut message is screened.

use sip_bridge::raw_sip_message::{MAX_MESSAGE_BYTES, leading_crlf_len, stream_message_length};

pub fn run(data: &[u8]) {
    let mut buffer = data;
    loop {
        let skip = leading_crlf_len(buffer);
        assert!(skip <= buffer.len() && skip.is_multiple_of(2));
        buffer = &buffer[skip..];
        match stream_message_length(buffer) {
            Ok(Some(length)) => {
                assert!(
                    length > 0 && length <= buffer.len(),
                    "cut {length} of {}",
                    buffer.len()
                );
                assert!(length <= MAX_MESSAGE_BYTES);
                crate::sip_message::run(&buffer[..length]);
                buffer = &buffer[length..];
            }
            Ok(None) => {
                assert!(
                    buffer.len() <= MAX_MESSAGE_BYTES,
                    "waits with an oversized buffer"
                );
                return;
            }
            Err(framing) => {
                let _ = framing.to_string();
                return;
            }
        }
    }
}
