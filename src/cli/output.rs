//! A cloneable, thread-safe output stream, so reporters running on the async runtime can
//! write to stdout in production and to a buffer in tests.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// A shared writer: stdout, stderr or an in-memory buffer.
#[derive(Clone)]
pub struct Out {
    inner: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Out {
    pub fn stdout() -> Out {
        Out::new(Box::new(io::stdout()))
    }

    pub fn stderr() -> Out {
        Out::new(Box::new(io::stderr()))
    }

    pub fn new(writer: Box<dyn Write + Send>) -> Out {
        Out {
            inner: Arc::new(Mutex::new(writer)),
        }
    }

    /// An in-memory stream and a handle to read what was written to it.
    pub fn buffer() -> (Out, Buffer) {
        let buffer = Buffer::default();
        (Out::new(Box::new(buffer.clone())), buffer)
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// The readable side of [`Out::buffer`].
#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
