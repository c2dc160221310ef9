//! Bytes waiting for the USB serial port: whole engram-link frames, or nothing.
//!
//! USB CDC takes at most one 64-byte packet per poll, and only while a host has the port open; the
//! control loop produces telemetry whether or not anyone listens. So frames are queued here, all of a
//! frame or none of it (a frame cut in half would cost the host a decode error and the next frame
//! too), and a full queue drops the new frame and counts it.

use engram_link::{Encoder, Message};
use heapless::Deque;

/// A byte queue of `N` bytes holding whole frames.
pub struct Outbox<const N: usize> {
    bytes: Deque<u8, N>,
    dropped: u32,
}

impl<const N: usize> Outbox<N> {
    /// Empty.
    pub const fn new() -> Self {
        Self {
            bytes: Deque::new(),
            dropped: 0,
        }
    }

    /// Frames `msg` with `enc` and queues it whole; `false` (and counted) if it did not fit or could
    /// not be encoded.
    pub fn push(&mut self, enc: &mut Encoder, msg: &Message<'_>) -> bool {
        let ok = match enc.encode(msg) {
            Ok(frame) if frame.len() <= N - self.bytes.len() => {
                for &b in frame {
                    // Room checked above.
                    let _ = self.bytes.push_back(b);
                }
                true
            }
            _ => false,
        };
        if !ok {
            self.dropped = self.dropped.saturating_add(1);
        }
        ok
    }

    /// Hands the queued bytes to `write` (which returns how many it took) until it takes none or the
    /// queue is empty; returns the bytes taken.
    pub fn drain(&mut self, mut write: impl FnMut(&[u8]) -> usize) -> usize {
        let mut total = 0;
        loop {
            let (front, _) = self.bytes.as_slices();
            if front.is_empty() {
                return total;
            }
            let n = write(front).min(front.len());
            if n == 0 {
                return total;
            }
            for _ in 0..n {
                self.bytes.pop_front();
            }
            total += n;
        }
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Nothing queued.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Frames dropped because the queue was full (saturating).
    pub const fn dropped(&self) -> u32 {
        self.dropped
    }
}

impl<const N: usize> Default for Outbox<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engram_link::{Command, Decoder};

    #[test]
    fn frames_go_out_whole_or_not_at_all() {
        let mut enc = Encoder::new();
        let mut out: Outbox<24> = Outbox::new();
        let pause = Message::Command(Command::Pause);
        assert!(out.push(&mut enc, &pause));
        assert!(out.push(&mut enc, &pause));
        let two = out.len();
        assert!(!out.push(&mut enc, &pause), "a third does not fit");
        assert_eq!((out.len(), out.dropped()), (two, 1));
        // A port that takes 5 bytes per call, then refuses.
        let mut wire = Vec::new();
        let mut calls = 0;
        out.drain(|b| {
            calls += 1;
            if calls > 2 {
                return 0;
            }
            let n = b.len().min(5);
            wire.extend_from_slice(&b[..n]);
            n
        });
        assert_eq!(wire.len(), 10);
        out.drain(|b| {
            wire.extend_from_slice(b);
            b.len()
        });
        assert!(out.is_empty());
        let mut dec: Decoder = Decoder::new();
        let mut input = &wire[..];
        let mut got = 0;
        while let Some(m) = dec.feed(&mut input) {
            assert_eq!(m.unwrap(), pause);
            got += 1;
        }
        assert_eq!(got, 2);
    }
}
