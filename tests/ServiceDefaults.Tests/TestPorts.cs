using System.Net;
using System.Net.Sockets;

namespace MediaActors.ServiceDefaults.Tests;

/// <summary>
/// Ports for the hosts a test starts. A port the kernel hands out for port 0 is an ephemeral one, which any outgoing
/// connection (a database connection, an HTTP call) may take before the host binds it ("address already in use",
/// seen in CI). These come from below the ephemeral range (32768-60999 by default), where the kernel never picks, each
/// test process from its own stretch of it, and each is checked free when handed out.
/// </summary>
public static class TestPorts
{
    private const int First = 20000;
    private const int Count = 12000;

    private static int _next = (Environment.ProcessId % 60) * 200;

    public static int Next()
    {
        for (var tries = 0; tries < 2000; tries++)
        {
            var port = First + (Interlocked.Increment(ref _next) % Count);
            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free port between {First} and {First + Count - 1}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
