package quaysim

// The scan catalogue: four base images whose OS packages are shared by every image built on
// them, and two application ecosystems layered on top. Identifiers, versions and scores are
// modelled on real advisories; descriptions are short paraphrases. Severity is the scanner's
// normalized severity, which Quay replaces by a CVSS band when it is Unknown or empty.

// osBase is a base image and the Clair updater that reports on its packages.
type osBase struct {
	name      string
	layerSize int64
	updater   string
	repoName  *string
	distro    *string
	version   *string
	packages  []pkg
}

// ecosystem is a language package ecosystem found in application layers.
type ecosystem struct {
	name     string
	updater  string
	repoName *string
	repoLink *string
	packages []pkg
}

type pkg struct {
	name, version string
	vulns         []vuln
}

// vuln is a catalogue entry. score and vector are "" when the scanner has no CVSS enrichment.
type vuln struct {
	name, severity, score, vector, fixedBy, link, description string
}

func sp(s string) *string { return &s }

const (
	rhLink  = "https://access.redhat.com/security/cve/"
	debLink = "https://security-tracker.debian.org/tracker/"
	nvdLink = "https://nvd.nist.gov/vuln/detail/"
	goLink  = "https://pkg.go.dev/vuln/"

	vNetHigh = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
	vNetCrit = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	vNetLow  = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N"
	vLocal   = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
	vLocalDo = "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"
	vNetMed  = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"
	vNetDos  = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"
)

var bases = []osBase{
	{
		name: "rhel8", layerSize: 79_600_000,
		updater:  "RHEL8-rhel-8-including-unpatched",
		repoName: sp("cpe:/o:redhat:enterprise_linux:8::baseos"),
		distro:   sp("Red Hat Enterprise Linux Server"), version: sp("8"),
		packages: []pkg{
			{"openssl-libs", "1:1.1.1k-7.el8_6", []vuln{
				{"CVE-2023-0286", "High", "7.4", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
					"1:1.1.1k-9.el8_7", rhLink + "CVE-2023-0286 " +
						"https://access.redhat.com/errata/RHSA-2023:1405",
					"A type confusion in X.400 address processing inside an X.509 " +
						"GeneralName may let an attacker read memory or crash the process."},
				{"CVE-2023-0215", "Medium", "7.5", vNetHigh, "1:1.1.1k-9.el8_7",
					rhLink + "CVE-2023-0215",
					"A use-after-free after BIO_new_NDEF may crash applications that stream " +
						"ASN.1 data."},
				{"CVE-2022-4304", "Medium", "5.9", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
					"1:1.1.1k-9.el8_7", rhLink + "CVE-2022-4304",
					"A timing side channel in RSA decryption may allow recovery of plaintext."},
			}},
			{"bash", "4.4.20-4.el8_6", nil},
			{"glibc", "2.28-211.el8", []vuln{
				{"CVE-2023-4813", "Medium", "5.9", vNetMed, "2.28-236.el8",
					rhLink + "CVE-2023-4813",
					"gaih_inet may use memory after free when resolving names in rare " +
						"configurations."},
				{"CVE-2023-4806", "Medium", "5.9", vNetMed, "2.28-236.el8",
					rhLink + "CVE-2023-4806",
					"getaddrinfo may use freed memory under a specific NSS module setup."},
			}},
			{"curl", "7.61.1-25.el8", []vuln{
				{"CVE-2023-27535", "Medium", "5.9", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
					"7.61.1-30.el8_8.2", rhLink + "CVE-2023-27535",
					"FTP connection reuse ignores some configuration changes, reusing a " +
						"connection with the wrong credentials."},
				{"CVE-2023-38546", "Low", "3.7", vNetLow, "7.61.1-33.el8",
					rhLink + "CVE-2023-38546",
					"Cookie injection is possible when a handle is duplicated in a specific way."},
			}},
			{"zlib", "1.2.11-20.el8", []vuln{
				{"CVE-2023-45853", "Low", "5.3", vNetDos, "", rhLink + "CVE-2023-45853",
					"Integer overflow in minizip's zipOpenNewFileInZip4_64 with long names."},
			}},
			{"libxml2", "2.9.7-15.el8", []vuln{
				{"CVE-2023-28484", "Medium", "6.5", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H",
					"2.9.7-16.el8_8.1", rhLink + "CVE-2023-28484",
					"A NULL dereference while parsing crafted XSD schemas."},
			}},
			{"sqlite-libs", "3.26.0-17.el8", []vuln{
				{"CVE-2023-7104", "Medium", "7.3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L",
					"3.26.0-19.el8_9", rhLink + "CVE-2023-7104",
					"A heap overflow in the session extension's sessionReadRecord."},
			}},
			{"systemd-libs", "239-68.el8", []vuln{
				{"CVE-2023-26604", "High", "7.8", vLocal, "239-74.el8_8", rhLink + "CVE-2023-26604",
					"systemctl run through sudo may spawn a pager that allows privilege " +
						"escalation."},
			}},
			{"platform-python", "3.6.8-51.el8", []vuln{
				{"CVE-2023-40217", "Medium", "5.3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N",
					"3.6.8-56.el8_9", rhLink + "CVE-2023-40217",
					"TLS sockets may return unauthenticated data after an early close."},
				{"CVE-2023-27043", "Medium", "5.3", vNetLow, "", rhLink + "CVE-2023-27043",
					"The email module parses some addresses with special characters wrongly."},
			}},
			{"tzdata", "2023c-1.el8", nil},
			{"libgcc", "8.5.0-18.el8", nil},
		},
	},
	{
		name: "ubi9", layerSize: 38_400_000,
		updater:  "RHEL9-rhel-9-including-unpatched",
		repoName: sp("cpe:/o:redhat:enterprise_linux:9::baseos"),
		distro:   sp("Red Hat Enterprise Linux Server"), version: sp("9"),
		packages: []pkg{
			{"openssl-libs", "1:3.0.7-24.el9", []vuln{
				{"CVE-2023-5678", "Low", "5.3", vNetDos, "1:3.0.7-27.el9",
					rhLink + "CVE-2023-5678 https://access.redhat.com/errata/RHSA-2024:2447",
					"Generating or checking excessively long X9.42 DH keys is slow."},
				{"CVE-2024-0727", "Low", "5.5", vLocalDo, "1:3.0.7-27.el9",
					rhLink + "CVE-2024-0727",
					"Processing a malformed PKCS12 file may dereference NULL."},
			}},
			{"glibc", "2.34-60.el9", []vuln{
				{"CVE-2023-4911", "High", "7.8", vLocal, "2.34-83.el9.7",
					rhLink + "CVE-2023-4911 https://access.redhat.com/errata/RHSA-2023:5453",
					"A buffer overflow in the dynamic loader's GLIBC_TUNABLES handling allows " +
						"local privilege escalation."},
				{"CVE-2024-2961", "High", "7.3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:H/A:H",
					"2.34-100.el9_4.2", rhLink + "CVE-2024-2961",
					"iconv may write out of bounds when converting to ISO-2022-CN-EXT."},
			}},
			{"curl-minimal", "7.76.1-26.el9", []vuln{
				{"CVE-2023-38546", "Low", "3.7", vNetLow, "7.76.1-26.el9_3.2",
					rhLink + "CVE-2023-38546",
					"Cookie injection is possible when a handle is duplicated in a specific way."},
			}},
			{"libxml2", "2.9.13-5.el9", []vuln{
				{"CVE-2024-25062", "Medium", "7.5", vNetHigh, "2.9.13-6.el9_4",
					rhLink + "CVE-2024-25062",
					"A use-after-free in the xmlreader interface with XInclude and validation."},
				{"CVE-2023-39615", "Medium", "6.5", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H",
					"", rhLink + "CVE-2023-39615",
					"Out-of-bounds read when parsing crafted XML through a custom SAX handler."},
			}},
			{"expat", "2.5.0-1.el9", []vuln{
				{"CVE-2023-52425", "Medium", "7.5", vNetHigh, "2.5.0-2.el9_4",
					rhLink + "CVE-2023-52425",
					"Parsing large tokens needs many full reparses, which causes denial of " +
						"service."},
			}},
			{"ncurses-libs", "6.2-8.20210508.el9", []vuln{
				{"CVE-2023-29491", "Medium", "7.8", vLocal, "6.2-10.20210508.el9",
					rhLink + "CVE-2023-29491",
					"Malformed terminfo data can corrupt memory in setuid programs."},
			}},
			{"systemd-libs", "252-18.el9", []vuln{
				{"CVE-2023-7008", "Medium", "5.9", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N",
					"", rhLink + "CVE-2023-7008",
					"systemd-resolved accepts records from unsigned zones when DNSSEC is on."},
			}},
			{"krb5-libs", "1.21.1-1.el9", []vuln{
				{"CVE-2024-26461", "Low", "5.3", vNetDos, "", rhLink + "CVE-2024-26461",
					"A memory leak in the GSS message token handling."},
			}},
			{"bash", "5.1.8-6.el9_1", nil},
			{"tzdata", "2023c-1.el9", nil},
			{"ca-certificates", "2023.2.60_v7.0.306-90.1.el9_2", nil},
		},
	},
	{
		name: "debian12", layerSize: 29_150_000,
		updater: "debian/updater", distro: sp("Debian GNU/Linux"), version: sp("12 (bookworm)"),
		packages: []pkg{
			{"libc6", "2.36-9+deb12u1", []vuln{
				{"CVE-2023-4911", "High", "7.8", vLocal, "2.36-9+deb12u3",
					debLink + "CVE-2023-4911",
					"A buffer overflow in the dynamic loader's GLIBC_TUNABLES handling."},
				{"CVE-2019-1010022", "Negligible", "9.8", vNetCrit, "",
					debLink + "CVE-2019-1010022",
					"A stack guard bypass that upstream does not consider a vulnerability."},
				{"CVE-2010-4756", "Negligible", "", "", "", debLink + "CVE-2010-4756",
					"glob may exhaust CPU and memory with crafted patterns."},
			}},
			{"libssl3", "3.0.11-1~deb12u1", []vuln{
				{"CVE-2023-5678", "Low", "5.3", vNetDos, "3.0.13-1~deb12u1",
					debLink + "CVE-2023-5678",
					"Generating or checking excessively long X9.42 DH keys is slow."},
				{"CVE-2024-0727", "Low", "5.5", vLocalDo, "3.0.13-1~deb12u1",
					debLink + "CVE-2024-0727",
					"Processing a malformed PKCS12 file may dereference NULL."},
			}},
			{"zlib1g", "1:1.2.13.dfsg-1", []vuln{
				{"CVE-2023-45853", "Negligible", "9.8", vNetCrit, "", debLink + "CVE-2023-45853",
					"Integer overflow in minizip, which the Debian package does not build."},
			}},
			{"perl-base", "5.36.0-7", []vuln{
				{"CVE-2023-31484", "High", "8.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
					"5.36.0-7+deb12u1", debLink + "CVE-2023-31484",
					"CPAN.pm does not verify TLS certificates when downloading distributions."},
				{"CVE-2011-4116", "Negligible", "7.5",
					"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
					"", debLink + "CVE-2011-4116",
					"File::Temp follows symlinks in some temporary-file patterns."},
			}},
			{"libsystemd0", "252.17-1~deb12u1", []vuln{
				{"CVE-2013-4392", "Negligible", "", "", "", debLink + "CVE-2013-4392",
					"systemd-tmpfiles follows symlinks when changing permissions."},
				{"CVE-2023-31437", "Negligible", "5.3", vNetLow, "", debLink + "CVE-2023-31437",
					"Sealed journal entries can be altered without detection (disputed)."},
			}},
			{"tar", "1.34+dfsg-1.2", []vuln{
				{"CVE-2022-48303", "Low", "5.5", vLocalDo, "1.34+dfsg-1.2+deb12u1",
					debLink + "CVE-2022-48303",
					"A one-byte out-of-bounds read on crafted archives with bad mtimes."},
				{"CVE-2005-2541", "Negligible", "", "", "", debLink + "CVE-2005-2541",
					"tar keeps setuid bits when extracting archives as root."},
			}},
			{"coreutils", "9.1-1", []vuln{
				{"CVE-2016-2781", "Low", "6.5", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N", "",
					debLink + "CVE-2016-2781",
					"chroot --userspec lets a process inject input into the parent terminal."},
				{"CVE-2017-18018", "Negligible", "4.7",
					"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:H/A:N",
					"", debLink + "CVE-2017-18018",
					"chown -R -L races with symlink changes."},
			}},
			{"libgnutls30", "3.7.9-2", []vuln{
				{"CVE-2024-0553", "Medium", "7.5", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
					"3.7.9-2+deb12u2", debLink + "CVE-2024-0553",
					"A timing side channel in RSA-PSK key exchange."},
				{"CVE-2023-5981", "Medium", "5.9", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
					"3.7.9-2+deb12u1", debLink + "CVE-2023-5981",
					"Response times to malformed RSA ciphertexts leak information."},
			}},
			{"apt", "2.6.1", []vuln{
				{"CVE-2011-3374", "Negligible", "3.7", vNetLow, "", debLink + "CVE-2011-3374",
					"apt-key may accept a keyring that was not verified."},
			}},
			{"login", "1:4.13+dfsg1-1", []vuln{
				{"CVE-2023-4641", "Low", "5.5", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", "",
					debLink + "CVE-2023-4641",
					"gpasswd may leave a password in memory after a failed confirmation."},
			}},
			{"bash", "5.2.15-2+b2", nil},
			{"libncursesw6", "6.4-4", nil},
		},
	},
	{
		name: "alpine3", layerSize: 3_400_000,
		updater: "alpine-main-v3.19-updater", distro: sp("Alpine Linux"), version: sp("3.19"),
		// Alpine's secdb has neither severities nor links: the scanner reports Unknown and an
		// empty Link, so Quay falls back to the CVSS band and CVEIds stay empty.
		packages: []pkg{
			{"musl", "1.2.4_git20230717-r4", nil},
			{"busybox", "1.36.1-r15", []vuln{
				{"CVE-2023-42363", "Unknown", "5.5", vLocalDo, "1.36.1-r16", "",
					"A use-after-free in awk's evaluate function."},
				{"CVE-2023-42364", "Unknown", "5.5", vLocalDo, "1.36.1-r17", "",
					"A use-after-free in awk when handling crafted scripts."},
			}},
			{"libcrypto3", "3.1.4-r2", []vuln{
				{"CVE-2023-6129", "Unknown", "6.5", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:H",
					"3.1.4-r3", "", "The POLY1305 MAC on PowerPC may corrupt application state."},
				{"CVE-2023-6237", "Unknown", "5.9", vNetMed, "3.1.4-r4", "",
					"Checking excessively long invalid RSA public keys is slow."},
				{"CVE-2024-2511", "Unknown", "", "", "3.1.4-r6", "",
					"Unbounded memory growth with session handling in TLSv1.3."},
			}},
			{"libssl3", "3.1.4-r2", []vuln{
				{"CVE-2024-0727", "", "5.5", vLocalDo, "3.1.4-r5", "",
					"Processing a malformed PKCS12 file may dereference NULL."},
			}},
			{"zlib", "1.3-r2", []vuln{
				{"CVE-2023-45853", "Unknown", "9.8", vNetCrit, "1.3.1-r0", "",
					"Integer overflow in minizip's zipOpenNewFileInZip4_64 with long names."},
			}},
			{"apk-tools", "2.14.0-r5", nil},
			{"ca-certificates-bundle", "20230506-r0", nil},
			{"libc-utils", "0.7.2-r5", nil},
		},
	},
}

var ecosystems = []ecosystem{
	{
		name: "python", updater: "pyupio", repoName: sp("pypi"),
		repoLink: sp("https://pypi.org/simple"),
		// pyup names carry the CVE, but the link does not, so Quay's CVEIds stay empty.
		packages: []pkg{
			{"urllib3", "1.26.5", []vuln{
				{"pyup.io-61601 (CVE-2023-43804)", "", "8.1",
					"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", "1.26.17",
					"https://pyup.io/v/61601/f17/",
					"Cookie headers are not stripped on cross-origin redirects."},
			}},
			{"requests", "2.25.1", []vuln{
				{"pyup.io-58755 (CVE-2023-32681)", "", "6.1",
					"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", "2.31.0",
					"https://pyup.io/v/58755/f17/",
					"Proxy-Authorization headers leak to destination servers on redirects."},
			}},
			{"certifi", "2022.12.7", []vuln{
				{"pyup.io-59956 (CVE-2023-37920)", "", "9.8", vNetCrit, "2023.7.22",
					"https://pyup.io/v/59956/f17/",
					"The bundle still trusts e-Tugra root certificates."},
			}},
			{"setuptools", "57.5.0", []vuln{
				{"pyup.io-52495 (CVE-2022-40897)", "", "5.9", vNetMed, "65.5.1",
					"https://pyup.io/v/52495/f17/",
					"A regular expression in package_index allows denial of service."},
			}},
		},
	},
	{
		name: "go", updater: "osv/go", repoName: sp("go"),
		packages: []pkg{
			{"stdlib", "go1.20.4", []vuln{
				{"GO-2023-2102", "", "7.5", vNetHigh, "1.20.10",
					goLink + "GO-2023-2102 " + nvdLink + "CVE-2023-39325",
					"HTTP/2 servers accept rapid stream resets, exhausting resources."},
				{"GO-2023-1878", "", "6.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
					"1.20.6",
					goLink + "GO-2023-1878 " + nvdLink + "CVE-2023-29406",
					"net/http accepts Host headers that smuggle extra headers."},
			}},
			{"golang.org/x/net", "v0.8.0", []vuln{
				{"GO-2023-1988", "", "6.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
					"0.13.0", goLink + "GO-2023-1988",
					"html rendering does not escape some attribute values."},
			}},
			{"google.golang.org/grpc", "v1.53.0", []vuln{
				{"GHSA-m425-mq94-257g", "", "7.5", vNetHigh, "1.56.3",
					"https://github.com/advisories/GHSA-m425-mq94-257g " + nvdLink +
						"CVE-2023-44487",
					"HTTP/2 rapid reset can exhaust server resources."},
			}},
			{"github.com/prometheus/client_golang", "v1.14.0", nil},
		},
	},
}
