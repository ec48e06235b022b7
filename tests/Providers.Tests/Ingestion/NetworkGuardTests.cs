using System.Net;
using System.Net.Sockets;
using MediaActors.Providers.Ingestion;

namespace MediaActors.Providers.Tests.Ingestion;

public sealed class NetworkGuardTests
{
    [Theory]
    // IPv4 loopback, private, link-local (cloud metadata), CGNAT, "this network", multicast, reserved, broadcast, special ranges.
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.254")]
    [InlineData("10.0.0.1")]
    [InlineData("10.255.255.255")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("192.168.255.255")]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.0.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.100.100.200")]
    [InlineData("100.127.255.255")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("192.0.0.192")]
    [InlineData("192.0.2.10")]
    [InlineData("198.18.0.1")]
    [InlineData("198.19.255.255")]
    [InlineData("198.51.100.7")]
    [InlineData("203.0.113.9")]
    [InlineData("192.88.99.1")]
    // IPv6 unspecified, loopback, unique-local (incl. AWS's fd00:ec2::254), link-local, site-local, multicast, documentation, discard, Teredo.
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456:789a::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("fe80::1")]
    [InlineData("fe80::1%2")]
    [InlineData("febf::1")]
    [InlineData("fec0::1")]
    [InlineData("ff02::1")]
    [InlineData("ff0e::1")]
    [InlineData("2001:db8::1")]
    [InlineData("3fff::1")]
    [InlineData("100::1")]
    [InlineData("2001::1")]
    // IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms of refused IPv4 addresses.
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:192.168.1.1")]
    [InlineData("::ffff:0.0.0.0")]
    [InlineData("::127.0.0.1")]
    [InlineData("::10.0.0.1")]
    [InlineData("::169.254.169.254")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:7f00:1::1")]
    [InlineData("2002:c0a8:101::1")]
    [InlineData("2002:a9fe:a9fe::")]
    public void Refuses_local_private_and_special_addresses(string text)
    {
        var address = IPAddress.Parse(text);

        Assert.False(NetworkGuard.IsPublicAddress(address));
        Assert.False(Guard(new IngestionOptions()).IsAllowed(address, 80));
        Assert.True(Guard(new IngestionOptions { AllowPrivateNetworks = true }).IsAllowed(address, 80));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("93.184.216.34")]
    [InlineData("11.0.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.0")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.0")]
    [InlineData("192.167.255.255")]
    [InlineData("192.169.0.0")]
    [InlineData("169.253.255.255")]
    [InlineData("223.255.255.255")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("2a00:1450:4001:80b::200e")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    public void Allows_public_addresses(string text)
    {
        var address = IPAddress.Parse(text);

        Assert.True(NetworkGuard.IsPublicAddress(address));
        Assert.True(Guard(new IngestionOptions()).IsAllowed(address, 443));
    }

    [Theory]
    [InlineData("metadata.google.internal")]
    [InlineData("METADATA.GOOGLE.INTERNAL")]
    [InlineData("metadata.google.internal.")]
    [InlineData("metadata")]
    [InlineData("metadata.goog")]
    [InlineData("instance-data.ec2.internal")]
    public async Task Refuses_metadata_host_names_without_looking_them_up(string host)
    {
        var lookups = 0;
        var guard = new NetworkGuard(new IngestionOptions(), (_, _) =>
        {
            lookups++;
            return Task.FromResult(new[] { IPAddress.Parse("8.8.8.8") });
        });

        var error = await Assert.ThrowsAsync<AddressRefusedException>(() => guard.ResolveAsync(host, 80, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("The link points to a cloud metadata service (", error.Message);
        Assert.EndsWith("), which is not allowed.", error.Message);
        Assert.Equal(0, lookups);
    }

    [Fact]
    public async Task Checks_every_address_a_name_resolves_to()
    {
        var guard = new NetworkGuard(new IngestionOptions(), (_, _) => Task.FromResult(new[] { IPAddress.Parse("8.8.8.8"), IPAddress.Parse("10.1.2.3") }));

        var error = await Assert.ThrowsAsync<AddressRefusedException>(() => guard.ResolveAsync("rebind.example", 80, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal("The host 'rebind.example' resolves to a private or local network address (10.1.2.3), which is not allowed.", error.Message);
    }

    [Fact]
    public async Task Returns_the_checked_addresses_for_the_connection()
    {
        var answer = new[] { IPAddress.Parse("8.8.8.8"), IPAddress.Parse("2001:4860:4860::8888") };
        var guard = new NetworkGuard(new IngestionOptions(), (name, _) => Task.FromResult(name == "public.example" ? answer : []));

        var addresses = await guard.ResolveAsync("public.example", 443, CancellationToken.None);

        Assert.Equal(answer, addresses);
    }

    [Theory]
    [InlineData("10.1.2.3", "The link points to a private or local network address (10.1.2.3), which is not allowed.")]
    [InlineData("[::1]", "The link points to a private or local network address (::1), which is not allowed.")]
    [InlineData("::ffff:169.254.169.254", "The link points to a private or local network address (::ffff:169.254.169.254), which is not allowed.")]
    public async Task Refuses_address_literals_without_looking_them_up(string host, string expected)
    {
        var guard = new NetworkGuard(new IngestionOptions(), (_, _) => throw new InvalidOperationException("no lookup expected"));

        var error = await Assert.ThrowsAsync<AddressRefusedException>(() => guard.ResolveAsync(host, 80, CancellationToken.None));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public async Task A_name_that_does_not_exist_is_a_permanent_error_and_a_failing_lookup_a_retryable_one()
    {
        var missing = new NetworkGuard(new IngestionOptions(), (_, _) => throw new SocketException((int)SocketError.HostNotFound));
        var failing = new NetworkGuard(new IngestionOptions(), (_, _) => throw new SocketException((int)SocketError.TryAgain));

        var notFound = await Assert.ThrowsAsync<StepException>(() => missing.ResolveAsync("nowhere.example", 80, CancellationToken.None));
        var temporary = await Assert.ThrowsAsync<StepException>(() => failing.ResolveAsync("flaky.example", 80, CancellationToken.None));

        Assert.False(notFound.Transient);
        Assert.Equal("The host 'nowhere.example' could not be found.", notFound.Message);
        Assert.True(temporary.Transient);
    }

    [Fact]
    public void An_allowed_private_endpoint_opens_exactly_that_address_and_port()
    {
        var guard = Guard(new IngestionOptions { AllowedPrivateEndpoints = ["127.0.0.1:8080", "10.0.0.5", "[fd00::5]:443"] });

        Assert.True(guard.IsAllowed(IPAddress.Parse("127.0.0.1"), 8080));
        Assert.True(guard.IsAllowed(IPAddress.Parse("::ffff:127.0.0.1"), 8080));
        Assert.False(guard.IsAllowed(IPAddress.Parse("127.0.0.1"), 8081));
        Assert.False(guard.IsAllowed(IPAddress.Parse("127.0.0.2"), 8080));
        Assert.False(guard.IsAllowed(IPAddress.Parse("::1"), 8080));
        Assert.True(guard.IsAllowed(IPAddress.Parse("10.0.0.5"), 1234));
        Assert.True(guard.IsAllowed(IPAddress.Parse("fd00::5"), 443));
        Assert.False(guard.IsAllowed(IPAddress.Parse("fd00::5"), 80));
        Assert.False(guard.IsAllowed(IPAddress.Parse("169.254.169.254"), 80));
    }

    [Fact]
    public void A_malformed_allowed_endpoint_fails_at_start()
    {
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Guard(new IngestionOptions { AllowedPrivateEndpoints = ["not-an-address"] }));
    }

    private static NetworkGuard Guard(IngestionOptions options) => new(options, Dns.GetHostAddressesAsync);
}
