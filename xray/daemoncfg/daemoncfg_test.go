package daemoncfg

import "testing"

func TestParseForms(t *testing.T) {
	t.Setenv(EnvVar, "")
	for in, want := range map[string][2]string{
		"127.0.0.1:2000":                          {"127.0.0.1:2000", "127.0.0.1:2000"},
		"tcp:127.0.0.1:2001 udp:127.0.0.2:2002":   {"127.0.0.2:2002", "127.0.0.1:2001"},
		"udp:127.0.0.2:2002   tcp:127.0.0.1:2001": {"127.0.0.2:2002", "127.0.0.1:2001"},
	} {
		d, err := Parse(in)
		if err != nil || d.UDPAddr.String() != want[0] || d.TCPAddr.String() != want[1] {
			t.Errorf("%q: %+v %v", in, d, err)
		}
	}
	for _, bad := range []string{"udp:127.0.0.1:2000 udp:127.0.0.1:2001", "a b c", "127.0.0.1", "tcp:1.2.3.4:1 udp:"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestEnvironmentWins(t *testing.T) {
	t.Setenv(EnvVar, "127.0.0.9:3000")
	d, err := GetDaemonEndpointsFromString("127.0.0.1:2000")
	if err != nil || d.UDPAddr.String() != "127.0.0.9:3000" {
		t.Errorf("%+v %v", d, err)
	}
	t.Setenv(EnvVar, "")
	if d := GetDaemonEndpoints(); d.UDPAddr.String() != "127.0.0.1:2000" {
		t.Errorf("default = %v", d.UDPAddr)
	}
}
