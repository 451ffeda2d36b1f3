"""A reload command for the fault soak: reload-unless.py FLAG MASTER_SOCKET

Fails (exit 1) while the file FLAG exists, as a broken reload script would; otherwise asks HAProxy's
master CLI to reload (HAProxy 2.6 answers nothing: lbwatch reads back what runs afterwards).
"""
import os
import socket
import sys


def main(flag, master):
    if os.path.exists(flag):
        sys.stderr.write("reload refused: %s exists (soak fault)\n" % flag)
        return 1
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(master)
    s.sendall(b"reload\n")
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        pass
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
