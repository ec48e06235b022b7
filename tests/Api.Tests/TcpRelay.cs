using System.Net;
using System.Net.Sockets;

namespace MediaActors.Api.Tests;

/// <summary>A loopback TCP relay to a real server; stopping it makes that server unreachable for whoever connected through it.</summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private readonly Task _accepting;

    public TcpRelay(string targetHost, int targetPort)
    {
        _listener.Start();
        _accepting = AcceptAsync(targetHost, targetPort);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Closes the listener and every relayed connection.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }
    }

    private async Task AcceptAsync(string targetHost, int targetPort)
    {
        while (!_stop.IsCancellationRequested)
        {
            var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            var outbound = new TcpClient();
            await outbound.ConnectAsync(targetHost, targetPort, _stop.Token);
            lock (_connections)
            {
                _connections.Add(inbound);
                _connections.Add(outbound);
            }

            _ = PumpAsync(inbound.GetStream(), outbound.GetStream());
            _ = PumpAsync(outbound.GetStream(), inbound.GetStream());
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        try
        {
            await from.CopyToAsync(to, _stop.Token);
        }
        catch (Exception)
        {
            // A closed side ends the pump.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
