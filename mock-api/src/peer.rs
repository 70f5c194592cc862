//! The client end of a connection, carried by every request: its address, for the admin
//! API's loopback rule, and a handle on its socket, for the faults that reset or close it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;

/// The client end of a connection: its address, for the admin API's loopback rule, and a
/// handle on its socket, for the faults that reset or close it.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    /// A duplicate of the connection's descriptor: socket options set through it apply to
    /// the connection, and it closes when the connection's last request is done.
    #[cfg(unix)]
    socket: Option<Arc<std::os::fd::OwnedFd>>,
}

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Peer {
        #[cfg(unix)]
        let socket = {
            use std::os::fd::AsFd;
            stream.io().as_fd().try_clone_to_owned().ok().map(Arc::new)
        };
        Peer {
            addr: *stream.remote_addr(),
            #[cfg(unix)]
            socket,
        }
    }
}

impl Peer {
    /// A peer known by its address alone (connection faults then only end the response).
    pub fn without_socket(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            #[cfg(unix)]
            socket: None,
        }
    }

    pub fn is_loopback(&self) -> bool {
        match self.addr.ip() {
            IpAddr::V4(ip) => ip.is_loopback(),
            IpAddr::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback())
            }
        }
    }

    /// Makes the connection's close a reset (RST): lingering for zero seconds drops
    /// whatever is unsent.
    pub fn reset_on_close(&self) {
        #[cfg(unix)]
        if let Some(socket) = &self.socket {
            let _ =
                socket2::SockRef::from(socket.as_ref()).set_linger(Some(std::time::Duration::ZERO));
        }
    }

    /// Shuts the connection down both ways now, so the client reads an end with no reply.
    pub fn shut_down(&self) {
        #[cfg(unix)]
        if let Some(socket) = &self.socket {
            let _ = socket2::SockRef::from(socket.as_ref()).shutdown(std::net::Shutdown::Both);
        }
    }
}
