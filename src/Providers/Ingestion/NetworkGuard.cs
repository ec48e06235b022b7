using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Ingestion;

/// <summary>
/// Decides which network addresses ingestion may connect to: only public unicast addresses, unless
/// <see cref="IngestionOptions.AllowPrivateNetworks"/> or <see cref="IngestionOptions.AllowedPrivateEndpoints"/> say otherwise.
/// Refused: loopback, private, link-local (cloud metadata), CGNAT, unspecified, multicast, broadcast, reserved,
/// documentation and benchmarking ranges, and the IPv6 forms that embed any of these IPv4 addresses.
/// </summary>
public sealed class NetworkGuard
{
    /// <summary>Host names of cloud metadata services, refused before any DNS lookup.</summary>
    public static readonly IReadOnlySet<string> MetadataHostNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal",
    };

    private static readonly IPNetwork[] _refusedV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"), // "this network", includes 0.0.0.0
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"), // carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), // link-local, includes the metadata service 169.254.169.254
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), // IETF protocol assignments, includes Oracle's metadata 192.0.0.192
        IPNetwork.Parse("192.0.2.0/24"), // documentation
        IPNetwork.Parse("192.88.99.0/24"), // 6to4 relay anycast
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), // benchmarking
        IPNetwork.Parse("198.51.100.0/24"), // documentation
        IPNetwork.Parse("203.0.113.0/24"), // documentation
        IPNetwork.Parse("224.0.0.0/4"), // multicast
        IPNetwork.Parse("240.0.0.0/4"), // reserved, includes the broadcast address 255.255.255.255
    ];

    private static readonly IPNetwork _globalUnicastV6 = IPNetwork.Parse("2000::/3");

    private static readonly IPNetwork[] _refusedV6 =
    [
        IPNetwork.Parse("2001::/23"), // IETF protocol assignments: Teredo (2001::/32), benchmarking, ORCHID
        IPNetwork.Parse("2001:db8::/32"), // documentation
        IPNetwork.Parse("3fff::/20"), // documentation
    ];

    private static readonly IPNetwork _nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork _sixToFour = IPNetwork.Parse("2002::/16");

    private readonly bool _allowPrivateNetworks;
    private readonly IReadOnlyList<IPEndPoint> _allowedEndpoints;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    public NetworkGuard(IOptions<IngestionOptions> options)
        : this(options.Value, Dns.GetHostAddressesAsync)
    {
    }

    /// <summary>With a custom resolver, so tests can play a DNS server that answers with a mix of addresses.</summary>
    internal NetworkGuard(IngestionOptions options, Func<string, CancellationToken, Task<IPAddress[]>> resolve)
    {
        _allowPrivateNetworks = options.AllowPrivateNetworks;
        _allowedEndpoints = options.AllowedPrivateEndpoints.Select(ParseEndpoint).ToArray();
        _resolve = resolve;
    }

    /// <summary>True when every address is allowed (development and tests).</summary>
    public bool AllowsPrivateNetworks => _allowPrivateNetworks;

    /// <summary>True for addresses on the public internet; false for every local, private and special-purpose range.</summary>
    public static bool IsPublicAddress(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !_refusedV4.Any(network => network.Contains(address));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return IsPublicAddress(address.MapToIPv4());
        }

        var bytes = address.GetAddressBytes();
        if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
        {
            // ::/96 holds "::" and "::1" and the deprecated IPv4-compatible form ::a.b.c.d, which some stacks still route.
            return IsPublicAddress(new IPAddress(bytes.AsSpan(12, 4)));
        }

        if (_nat64.Contains(address))
        {
            // A NAT64 gateway would connect to the embedded IPv4 address.
            return IsPublicAddress(new IPAddress(bytes.AsSpan(12, 4)));
        }

        if (_sixToFour.Contains(address))
        {
            return IsPublicAddress(new IPAddress(bytes.AsSpan(2, 4)));
        }

        // Outside 2000::/3 nothing is global unicast: loopback, unique-local fc00::/7, link-local fe80::/10,
        // site-local fec0::/10, multicast ff00::/8, discard 100::/64 and unassigned space.
        return _globalUnicastV6.Contains(address) && !_refusedV6.Any(network => network.Contains(address));
    }

    /// <summary>True for the host names of cloud metadata services (any case, with or without a trailing dot).</summary>
    public static bool IsMetadataHostName(string host) => MetadataHostNames.Contains(host.TrimEnd('.'));

    /// <summary>Whether a connection to <paramref name="address"/>:<paramref name="port"/> is allowed by this configuration.</summary>
    public bool IsAllowed(IPAddress address, int port)
    {
        if (_allowPrivateNetworks || IsPublicAddress(address))
        {
            return true;
        }

        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return _allowedEndpoints.Any(allowed => allowed.Address.Equals(plain) && (allowed.Port == 0 || allowed.Port == port));
    }

    /// <summary>
    /// Resolves a host and checks EVERY address it resolves to; the caller connects only to the returned addresses,
    /// so a second DNS answer cannot swap in another address. Throws a permanent <see cref="StepException"/> when refused.
    /// </summary>
    public async Task<IPAddress[]> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        var name = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (name.Length == 0)
        {
            throw StepException.Permanent("The link has no host name.");
        }

        if (!_allowPrivateNetworks && IsMetadataHostName(name))
        {
            throw new AddressRefusedException($"The link points to a cloud metadata service ({name.TrimEnd('.')}), which is not allowed.");
        }

        var isLiteral = IPAddress.TryParse(name, out var literal);
        var addresses = isLiteral ? [literal!] : await LookUpAsync(name, cancellationToken);
        if (addresses.Length == 0)
        {
            throw StepException.Permanent($"The host '{name}' has no network address.");
        }

        foreach (var address in addresses)
        {
            if (!IsAllowed(address, port))
            {
                throw new AddressRefusedException(isLiteral
                    ? $"The link points to a private or local network address ({address}), which is not allowed."
                    : $"The host '{name}' resolves to a private or local network address ({address}), which is not allowed.");
            }
        }

        return addresses;
    }

    private async Task<IPAddress[]> LookUpAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await _resolve(name, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            throw StepException.Permanent($"The host '{name}' could not be found.", ex);
        }
        catch (SocketException ex)
        {
            throw StepException.Retryable($"Looking up the host '{name}' failed ({ex.SocketErrorCode}).", ex);
        }
        catch (ArgumentException ex)
        {
            throw StepException.Permanent($"The host name '{name}' is not valid.", ex);
        }
    }

    private static IPEndPoint ParseEndpoint(string text)
    {
        // "10.0.0.5" and "fd00::5" mean any port; IPEndPoint.TryParse gives them port 0.
        if (IPEndPoint.TryParse(text.Trim(), out var endPoint))
        {
            var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
            return new IPEndPoint(address, endPoint.Port);
        }

        throw new OptionsValidationException(IngestionOptions.SectionName, typeof(IngestionOptions),
            [$"Ingestion:AllowedPrivateEndpoints has '{text}', which is not an address or address:port."]);
    }
}

/// <summary>The guard refused an address by policy (private, local, metadata), as opposed to a failed lookup. Always permanent.</summary>
public sealed class AddressRefusedException(string message) : StepException(message, transient: false);
