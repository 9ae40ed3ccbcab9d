//! Downloading blobs ahead of a copy's writes, a few at a time.
//!
//! `copy_image` writes blobs one after the other and asks the source for each just before
//! writing it; before that it tells the source, through `ImageSource::prefetch`, which blobs
//! it will ask for and in what order. A [`Prefetcher`] downloads them on threads of its own,
//! at most `slots` at once, each through the reader a direct read would use (so digests are
//! verified, dropped connections resumed, failures retried and progress reported just the
//! same), and holds each downloaded blob, in memory up to the in-memory limit and in an
//! anonymous temporary file above it, until the copy asks for it.
//!
//! A slot is given back only when the copy has finished reading the blob, so at most `slots`
//! blobs are downloading or held at any time. A blob the copy asks for before its download
//! has started is read directly instead of waiting, so the copy never waits for a download
//! that itself waits for a slot.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tracing::debug;

use crate::Progress;

/// A blob to download ahead: its digest and size, and the reader that downloads and verifies
/// it (nothing is asked of the registry before its first read).
pub(crate) struct Job {
    pub digest: String,
    pub size: u64,
    pub reader: Box<dyn Read + Send>,
}

/// A blob is known by its digest and the size the copy expects.
type Key = (String, u64);

/// Blobs downloaded ahead, a few at a time. Dropping it cancels the downloads under way and
/// frees what was downloaded and not asked for.
pub(crate) struct Prefetcher {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled whenever a download ends.
    changed: Condvar,
    cancelled: AtomicBool,
    /// How many blobs may be downloading or held at once.
    slots: usize,
    /// Blobs up to this size are held in memory; larger ones in a temporary file.
    memory_limit: u64,
    progress: Option<Arc<dyn Progress>>,
}

#[derive(Default)]
struct State {
    /// Downloads not started yet, in the order the copy will ask for them.
    queue: VecDeque<(Key, Job)>,
    entries: HashMap<Key, Entry>,
    /// Slots taken: downloads running, blobs held, blobs being read by the copy.
    busy: usize,
}

enum Entry {
    Queued,
    Running,
    /// Downloaded and verified, or failed with the error a direct read would have given.
    Done(io::Result<Content>),
}

enum Content {
    Memory(Cursor<Vec<u8>>),
    /// Anonymous: the system removes it when it is closed, whatever happens to the process.
    File(File),
}

impl Prefetcher {
    /// A prefetcher running at most `slots` downloads at once (at least one).
    pub fn new(slots: usize, memory_limit: u64, progress: Option<Arc<dyn Progress>>) -> Self {
        Prefetcher {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                cancelled: AtomicBool::new(false),
                slots: slots.max(1),
                memory_limit,
                progress,
            }),
        }
    }

    /// Queues downloads, in the order the blobs will be asked for, and starts as many as
    /// there are free slots. A blob already queued, downloading or held is not queued again.
    pub fn add(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut state = self.shared.lock();
        for job in jobs {
            let key = (job.digest.clone(), job.size);
            if state.entries.contains_key(&key) {
                continue;
            }
            state.entries.insert(key.clone(), Entry::Queued);
            state.queue.push_back((key, job));
        }
        Shared::start(&self.shared, &mut state);
    }

    /// The blob `digest` of `size` bytes as downloaded ahead, once its download has ended:
    /// its verified content, or a reader failing with the download's error. `None` when it
    /// was not queued, or when its download had not started (it is then dropped from the
    /// queue): the caller reads it directly.
    pub fn take(&self, digest: &str, size: u64) -> Option<Box<dyn Read + Send>> {
        let key = (digest.to_string(), size);
        let mut state = self.shared.lock();
        let outcome = loop {
            match state.entries.remove(&key) {
                None => return None,
                Some(Entry::Queued) => {
                    state.queue.retain(|(queued, _)| *queued != key);
                    return None;
                }
                Some(Entry::Running) => {
                    state.entries.insert(key.clone(), Entry::Running);
                    state = self
                        .shared
                        .changed
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some(Entry::Done(outcome)) => break outcome,
            }
        };
        drop(state);
        let slot = Slot(self.shared.clone());
        match outcome {
            Ok(content) => Some(Box::new(Held {
                content,
                _slot: slot,
            })),
            Err(error) => Some(Box::new(Failed(Some(error)))),
        }
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.shared.cancelled.store(true, Ordering::Relaxed);
        let mut state = self.shared.lock();
        state.queue.clear();
        // Frees the blobs held; running downloads stop at their next read.
        state.entries.clear();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts queued downloads while there are free slots.
    fn start(shared: &Arc<Shared>, state: &mut State) {
        while state.busy < shared.slots && !shared.cancelled.load(Ordering::Relaxed) {
            let Some((key, job)) = state.queue.pop_front() else {
                break;
            };
            let worker = shared.clone();
            let thread_key = key.clone();
            let spawned = std::thread::Builder::new()
                .name("extkit-download".into())
                .spawn(move || worker.run(thread_key, job));
            match spawned {
                // The thread waits for the lock held here before it records anything.
                Ok(_) => {
                    state.busy += 1;
                    state.entries.insert(key, Entry::Running);
                }
                Err(error) => {
                    debug!(%error, "cannot start a download thread; the blob is read when asked for");
                    state.entries.remove(&key);
                    break;
                }
            }
        }
    }

    /// Downloads one blob and records the outcome (a thread's whole life).
    fn run(self: Arc<Self>, key: Key, job: Job) {
        let Job {
            digest,
            size,
            mut reader,
        } = job;
        let outcome = self.download(&digest, size, reader.as_mut());
        drop(reader);
        let mut state = self.lock();
        let awaited = matches!(state.entries.get(&key), Some(Entry::Running));
        let cancelled = self.cancelled.load(Ordering::Relaxed);
        match outcome {
            Some(result) if awaited && !cancelled => {
                state.entries.insert(key, Entry::Done(result));
            }
            _ => {
                // Not kept: cancelled, or it could not be held (the blob is then read when
                // asked for). Its slot is free again.
                if awaited {
                    state.entries.remove(&key);
                }
                if cancelled {
                    self.end_progress(&digest);
                }
                state.busy = state.busy.saturating_sub(1);
                Shared::start(&self, &mut state);
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Reads a blob to its end into memory or a temporary file; `None` when a temporary file
    /// cannot hold it.
    fn download(
        &self,
        digest: &str,
        size: u64,
        reader: &mut (dyn Read + Send),
    ) -> Option<io::Result<Content>> {
        let mut reader = Cancellable {
            inner: reader,
            cancelled: &self.cancelled,
        };
        if size <= self.memory_limit {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            return Some(
                reader
                    .read_to_end(&mut bytes)
                    .map(|_| Content::Memory(Cursor::new(bytes))),
            );
        }
        let unheld = |error: io::Error| {
            debug!(%digest, %error, "a temporary file cannot hold the blob; it is read when asked for");
            self.end_progress(digest);
            None
        };
        let mut file = match tempfile::tempfile() {
            Ok(file) => file,
            Err(error) => return unheld(error),
        };
        let mut buffer = vec![0; 1 << 20];
        loop {
            let count = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(count) => count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Some(Err(error)),
            };
            if let Err(error) = file.write_all(&buffer[..count]) {
                return unheld(error);
            }
        }
        match file.seek(SeekFrom::Start(0)) {
            Ok(_) => Some(Ok(Content::File(file))),
            Err(error) => unheld(error),
        }
    }

    fn end_progress(&self, digest: &str) {
        if let Some(progress) = &self.progress {
            progress.end(digest, "download");
        }
    }
}

/// A download's reader that fails once the prefetcher is dropped.
struct Cancellable<'a> {
    inner: &'a mut (dyn Read + Send),
    cancelled: &'a AtomicBool,
}

impl Read for Cancellable<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(io::Error::other("the download was cancelled"));
        }
        self.inner.read(buffer)
    }
}

/// A slot taken by a blob being read; freeing it starts the next queued download.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.busy = state.busy.saturating_sub(1);
        Shared::start(&self.0, &mut state);
    }
}

/// A downloaded blob, read by the copy; its slot is freed when the copy drops it.
struct Held {
    content: Content,
    _slot: Slot,
}

impl Read for Held {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match &mut self.content {
            Content::Memory(bytes) => bytes.read(buffer),
            Content::File(file) => file.read(buffer),
        }
    }
}

/// A failed download: its error at the first read, as a direct read would have met it.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("the blob's download failed")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A download that records when it starts, then gives `content` (or fails with `error`).
    struct Fake {
        name: String,
        content: Cursor<Vec<u8>>,
        error: Option<io::Error>,
        started: Arc<Mutex<Vec<String>>>,
        first: bool,
    }

    impl Read for Fake {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if self.first {
                self.first = false;
                self.started.lock().unwrap().push(self.name.clone());
            }
            if let Some(error) = self.error.take() {
                return Err(error);
            }
            self.content.read(buffer)
        }
    }

    fn job(name: &str, content: &[u8], started: &Arc<Mutex<Vec<String>>>) -> Job {
        Job {
            digest: name.to_string(),
            size: content.len() as u64,
            reader: Box::new(Fake {
                name: name.to_string(),
                content: Cursor::new(content.to_vec()),
                error: None,
                started: started.clone(),
                first: true,
            }),
        }
    }

    fn read_all(mut reader: Box<dyn Read + Send>) -> Vec<u8> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).unwrap();
        bytes
    }

    /// Waits until `started` holds `count` names, then a little more to see no more come;
    /// gives the names sorted (downloads start in order, on threads that race).
    fn wait_started(started: &Arc<Mutex<Vec<String>>>, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while started.lock().unwrap().len() < count && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut names = started.lock().unwrap().clone();
        names.sort();
        names
    }

    #[test]
    fn blobs_come_back_from_memory_and_from_temporary_files() {
        let started = Arc::default();
        // Blobs of more than 8 bytes go to a temporary file.
        let prefetcher = Prefetcher::new(4, 8, None);
        let small = b"small".to_vec();
        let large: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        prefetcher.add([job("a", &small, &started), job("b", &large, &started)]);
        assert_eq!(
            read_all(prefetcher.take("b", large.len() as u64).unwrap()),
            large
        );
        assert_eq!(read_all(prefetcher.take("a", 5).unwrap()), small);
        // Taken blobs are gone: asked again, they are read directly.
        assert!(prefetcher.take("a", 5).is_none());
        // So are blobs never queued, or queued with another size.
        assert!(prefetcher.take("c", 1).is_none());
    }

    #[test]
    fn at_most_the_slots_are_downloading_or_held_at_once() {
        let started = Arc::default();
        let prefetcher = Prefetcher::new(2, 1 << 20, None);
        let jobs = ["a", "b", "c", "d"].map(|name| job(name, name.as_bytes(), &started));
        prefetcher.add(jobs);
        // Two downloads end and are held; the others wait for a slot.
        assert_eq!(wait_started(&started, 2), ["a", "b"]);
        // Reading a blob frees its slot once the reader is dropped.
        let a = prefetcher.take("a", 1).unwrap();
        assert_eq!(wait_started(&started, 2).len(), 2);
        assert_eq!(read_all(a), b"a");
        assert_eq!(wait_started(&started, 3), ["a", "b", "c"]);
        for name in ["b", "c", "d"] {
            let content = read_all(prefetcher.take(name, 1).unwrap());
            assert_eq!(content, name.as_bytes());
        }
        assert_eq!(wait_started(&started, 4).len(), 4);
    }

    #[test]
    fn a_blob_asked_for_before_its_download_starts_is_read_directly() {
        let started = Arc::default();
        let prefetcher = Prefetcher::new(1, 1 << 20, None);
        prefetcher.add([job("a", b"a", &started), job("b", b"b", &started)]);
        assert_eq!(wait_started(&started, 1), ["a"]);
        // `b` waits for the slot `a` holds: the caller reads it itself, and it is not
        // downloaded again once `a` is read.
        assert!(prefetcher.take("b", 1).is_none());
        assert_eq!(read_all(prefetcher.take("a", 1).unwrap()), b"a");
        assert_eq!(wait_started(&started, 1), ["a"]);
    }

    #[test]
    fn a_failed_download_gives_its_error_at_the_first_read() {
        let started = Arc::default();
        let prefetcher = Prefetcher::new(2, 1 << 20, None);
        let mut failing = job("a", b"abc", &started);
        failing.reader = Box::new(Fake {
            name: "a".into(),
            content: Cursor::new(b"abc".to_vec()),
            error: Some(io::Error::new(
                io::ErrorKind::InvalidData,
                "digest mismatch",
            )),
            started: started.clone(),
            first: true,
        });
        prefetcher.add([failing, job("b", b"b", &started)]);
        let mut reader = prefetcher.take("a", 3).unwrap();
        let error = reader.read(&mut [0; 8]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(error.to_string(), "digest mismatch");
        assert!(
            reader.read(&mut [0; 8]).is_err(),
            "it never seems to end well"
        );
        assert_eq!(read_all(prefetcher.take("b", 1).unwrap()), b"b");
    }
}
