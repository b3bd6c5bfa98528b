//! One waker for everything the stream polls, standing for up to two tasks.
//!
//! The transport and the timer each keep one waker per direction (tokio's sockets keep one
//! for reads and one for writes, a `Sleep` keeps one). When a stream is split, a reading task
//! and a writing task poll the same socket and the same timer: the last one to poll would
//! replace the other's waker, and that task would sleep forever (the reader's opportunistic
//! write of a pong would steal the writer's wake-up). So the stream polls them with this
//! waker instead, which remembers the reading task and the writing task and wakes both; each
//! poll of the stream registers its caller first. A spurious wake-up costs a poll that finds
//! nothing to do, which is far cheaper than a task that never wakes.

use alloc::sync::Arc;
use alloc::task::Wake;
use core::task::Waker;
use std::sync::{Mutex, PoisonError};

/// Which of the stream's two roles a poll plays.
#[derive(Debug, Clone, Copy)]
pub(super) enum Side {
    /// `Stream::poll_next`, and the handshake.
    Read = 0,
    /// The `Sink` methods.
    Write = 1,
}

/// The tasks waiting on the stream: the last reader and the last writer.
#[derive(Debug, Default)]
pub(super) struct TaskWakers {
    tasks: Mutex<[Option<Waker>; 2]>,
}

impl TaskWakers {
    /// Remembers `waker` as the task polling for `side` (a clone only when it changed).
    pub fn register(&self, side: Side, waker: &Waker) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = &mut tasks[side as usize];
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

impl Wake for TaskWakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let [reader, writer] =
            core::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        match (reader, writer) {
            (Some(reader), Some(writer)) => {
                // One task that both reads and writes is woken once.
                if !reader.will_wake(&writer) {
                    writer.wake();
                }
                reader.wake();
            }
            (reader, writer) => {
                if let Some(task) = reader.or(writer) {
                    task.wake();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counted() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn wakes_the_reader_and_the_writer_once_each() {
        let wakers = Arc::new(TaskWakers::default());
        let fan_out = Waker::from(wakers.clone());
        let (reads, reader) = counted();
        let (writes, writer) = counted();
        wakers.register(Side::Read, &reader);
        wakers.register(Side::Write, &writer);
        fan_out.wake_by_ref();
        assert_eq!(reads.0.load(Ordering::Relaxed), 1);
        assert_eq!(writes.0.load(Ordering::Relaxed), 1);
        // Woken tasks register again when they poll; until then nothing more is woken.
        fan_out.wake_by_ref();
        assert_eq!(reads.0.load(Ordering::Relaxed), 1);
        // One task in both roles is woken once.
        wakers.register(Side::Read, &reader);
        wakers.register(Side::Write, &reader);
        fan_out.wake_by_ref();
        assert_eq!(reads.0.load(Ordering::Relaxed), 2);
        assert_eq!(writes.0.load(Ordering::Relaxed), 1);
    }
}
