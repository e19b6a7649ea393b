//! Dialogue: what the bot says back. Engines sit behind one trait and answer with a stream.
