//! Test doubles for the dialogue's unit tests, compiled only under `cfg(test)`: never part of
//! the product. Integration tests (`tests/`) have their own helpers.

pub(super) mod mock_http_server;
