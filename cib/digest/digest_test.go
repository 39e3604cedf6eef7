package digest

import (
	"testing"
)

// Vectors produced by Debian's Pacemaker 2.1.5 crm_simulate ("-S -O") from
// the configurations kept in testdata/sim-*.xml; each row is the evaluated
// input of one recorded operation and the op-digest crm_simulate wrote.
var opDigestVectors = []struct {
	name string
	in   Input
	want string
}{
	{"no params, start", Input{Task: "start"}, "f2317cad3d54cec5d7d7aa7d0bf35cf8"},
	{"no params, probe", Input{Task: "monitor"}, "f2317cad3d54cec5d7d7aa7d0bf35cf8"},
	{"no params, non-recurring timeout ignored", Input{Task: "start", Timeout: "90s"}, "f2317cad3d54cec5d7d7aa7d0bf35cf8"},
	{"no params, monitor 10s timeout 20s", Input{Task: "monitor", IntervalMS: 10000, Timeout: "20s"}, "4811cef7f7f94e3a35a70be7916cb2fd"},
	{"params incl. empty value", Input{Task: "start", Params: map[string]string{
		"state": "/var/run/params.state", "fake": "hello world", "op_sleep": ""}}, "1fb1896e8cb1865bc3ee7369dd2c15cb"},
	{"params, monitor 15s timeout 30s", Input{Task: "monitor", IntervalMS: 15000, Timeout: "30s", Params: map[string]string{
		"state": "/var/run/params.state", "fake": "hello world", "op_sleep": ""}}, "5100e78b6a35ea36f432645d7670cf33"},
	{"byte-order sorting and filtered names", Input{Task: "start", Params: map[string]string{
		"b": "1", "B": "2", "_x": "3", "a-b": "4", "a_b": "5", "a.b": "6", "Z9": "7",
		"crm_feature_set": "filtered", "CRM_meta_custom": "filtered", "pcmk_external_ip": "filtered"}}, "ebc05c72779839ff89d0530910e9a757"},
	{"op-level params on start", Input{Task: "start", Params: map[string]string{"fake": "rsc"},
		OpParams: map[string]string{"start_only": "yes"}}, "9be3e7ac3834782fa6b17792c961eaeb"},
	{"probe without op params", Input{Task: "monitor", Params: map[string]string{"fake": "rsc"}}, "93c81b656ed5f6759980c3caba930329"},
	{"op-level params override resource params", Input{Task: "monitor", IntervalMS: 30000, Timeout: "25s",
		Params:   map[string]string{"fake": "rsc"},
		OpParams: map[string]string{"fake": "op-override", "OCF_CHECK_LEVEL": "10"}}, "ab7c810b24fea96798a5f1ea0a78c472"},
	{"timeout 1m", Input{Task: "monitor", IntervalMS: 11000, Timeout: "1m"}, "873ed4f07792aa8ff18f3254244675ea"},
	{"timeout 90 (seconds)", Input{Task: "monitor", IntervalMS: 12000, Timeout: "90"}, "8f6a313464b7f9e3a31cb448458b700e"},
	{"timeout 500ms", Input{Task: "monitor", IntervalMS: 13000, Timeout: "500ms"}, "b4bf14638da071a9aaafa6cd9c7d06b0"},
	{"timeout 1.5s truncated", Input{Task: "monitor", IntervalMS: 14000, Timeout: "1.5s"}, "4d45a99e54fdd744d986b2e72849445c"},
	{"timeout PT30S is not accepted", Input{Task: "monitor", IntervalMS: 16000, Timeout: "PT30S"}, "4811cef7f7f94e3a35a70be7916cb2fd"},
	{"timeout 2h", Input{Task: "monitor", IntervalMS: 17000, Timeout: "2h"}, "fb2fea66b05a26165baedbb903e3c900"},
	{"timeout garbage", Input{Task: "monitor", IntervalMS: 18000, Timeout: "abc"}, "4811cef7f7f94e3a35a70be7916cb2fd"},
	{"timeout with spaces", Input{Task: "monitor", IntervalMS: 19000, Timeout: " 45 s"}, "ddc6374dd6e1ff042115a123260f9260"},
	{"timeout from op meta_attributes", Input{Task: "monitor", IntervalMS: 21000, Timeout: "33s"}, "e8d5dc4e554119de308e157b9cec7ad9"},
	{"timeout via Meta", Input{Task: "monitor", IntervalMS: 21000, Meta: map[string]string{"timeout": "33s", "on-fail": "block"}}, "e8d5dc4e554119de308e157b9cec7ad9"},
	{"timeout from op_defaults rule", Input{Task: "monitor", IntervalMS: 22000, Timeout: "44s"}, "9469b19f27a1b5b3225c91e4600674bc"},
	{"timeout 5min", Input{Task: "monitor", IntervalMS: 60000, Timeout: "5min"}, "5ce203b19bbe022929c2359196a81cd0"},
	{"template + primitive", Input{Task: "start", Params: map[string]string{
		"fake": "from-primitive", "own": "1", "state": "/run/tmpl.state"}}, "adfef1ff8996d0ad3de53ff2bf200f3b"},
	{"template monitor", Input{Task: "monitor", IntervalMS: 25000, Timeout: "35s", Params: map[string]string{
		"fake": "from-primitive", "own": "1", "state": "/run/tmpl.state"}}, "308773a6865d5164388a3fd5969dbba7"},
	{"group member", Input{Task: "start", Params: map[string]string{"fake": "from-member", "group_param": "g"}}, "ee22e354bb3b9a566c7a494d8cdc5fec"},
	{"group member monitor", Input{Task: "monitor", IntervalMS: 10000, Timeout: "20s",
		Params: map[string]string{"fake": "from-member", "group_param": "g"}}, "96685b23ae1644bd14b5527b75277670"},
	{"fencing device", Input{Task: "start", Stonith: true, Params: map[string]string{
		"pcmk_host_list": "node1 node2", "pcmk_monitor_timeout": "77s", "passwd": "secret"}}, "9084fa8909beff83088b5125e532637a"},
	{"fencing device monitor", Input{Task: "monitor", IntervalMS: 60000, Timeout: "27s", Stonith: true, Params: map[string]string{
		"pcmk_host_list": "node1 node2", "pcmk_monitor_timeout": "77s", "passwd": "secret"}}, "8bb7b87ea3118c402b309c25384d0ec9"},
	{"special characters", Input{Task: "start", Params: map[string]string{
		"fake": `<a> & "q" 's' \back`, "ws": "tab\tnl\ncr\rend", "utf": "caf\u00e9 \x7f"}}, "8d845727d55c9140c6e19b6c18b45809"},
	{"special characters monitor", Input{Task: "monitor", IntervalMS: 20000, Timeout: "27s", Params: map[string]string{
		"fake": `<a> & "q" 's' \back`, "ws": "tab\tnl\ncr\rend", "utf": "caf\u00e9 \x7f"}}, "7be5cf331dab48d289b1ee2b81ef8bf2"},
	{"lt", Input{Params: map[string]string{"p": "<"}}, "c9e6ebeb4d151d0ce2a17ddf7e6323d8"},
	{"gt", Input{Params: map[string]string{"p": ">"}}, "255577f784af8badf4a6821976bbba1d"},
	{"amp", Input{Params: map[string]string{"p": "&"}}, "94638069f7ef340d3baa7a5acfa90852"},
	{"quot", Input{Params: map[string]string{"p": `"`}}, "6528cec6650fc2ec47efa6f86a2cddda"},
	{"apos", Input{Params: map[string]string{"p": "'"}}, "d46f66f41918b8ab6cad08c33c8bfab5"},
	{"backslash", Input{Params: map[string]string{"p": `\back`}}, "8d205b75b5c36a3d13d4bd03864168ef"},
	{"tab", Input{Params: map[string]string{"p": "a\tb"}}, "2bc77e7d34cd0acc55479522e5a6f538"},
	{"newline", Input{Params: map[string]string{"p": "a\nb"}}, "143553c7b2793aec688018334aea970d"},
	{"carriage return", Input{Params: map[string]string{"p": "a\rb"}}, "da5caf12fef3fed7c7ff8e73537e4fa0"},
	{"utf-8", Input{Params: map[string]string{"p": "caf\u00e9"}}, "58e99b5ec2e55d060ab226b1470ce803"},
	{"DEL", Input{Params: map[string]string{"p": "x\x7fy"}}, "7322555127ac64eb991ee4b9240b2a78"},
	{"double space", Input{Params: map[string]string{"p": "sp  ace"}}, "00b4b138cad5f4ceba2fac2f6d22861d"},
	{"euro sign", Input{Params: map[string]string{"p": "\u20ac"}}, "adea4e6f2fd4a662090799b6479d80d5"},
	{"mixed entities", Input{Params: map[string]string{"p": `<a> & "q" 's' \back`}}, "64363316c68299a38a5205f67251f174"},
	{"whitespace escapes", Input{Params: map[string]string{"p": "tab\tnl\ncr\rend"}}, "beccd8ddfbc9b26f1eb7e86f49cffae7"},
	{"escaping stops after UTF-8", Input{Params: map[string]string{"p": "caf\u00e9 \x7f"}}, "975b7bc993f7d9ad4bbb646a7604329e"},
	{"two lt", Input{Params: map[string]string{"p": "<<"}}, "f84fdd5152b9a5582c51418304ada7dc"},
	{"two tabs", Input{Params: map[string]string{"p": "a\t\tb"}}, "57a28101fc6a7203f197443f7bf79ea8"},
	{"two newlines", Input{Params: map[string]string{"p": "\n\n"}}, "250cfd5dbd09674b5420948546547ead"},
	{"two DEL", Input{Params: map[string]string{"p": "\x7f\x7f"}}, "3fa9cc2a7d84e558e1dd60ad07f9f565"},
	{"leading tab", Input{Params: map[string]string{"p": "\tx"}}, "f54fa9e1aaef9ee633d66b278a915a58"},
	{"#default removed a higher-priority value", Input{Params: map[string]string{"fake": "keep"}}, "34934c65d8bb31af0c0eddaf4cbfaa63"},
	{"#default before a lower-priority value", Input{Params: map[string]string{"state": "/b"}}, "d87cb7ddf5344785edecfca9d742aad8"},
	{"higher-score set wins, first duplicate in a set wins", Input{Params: map[string]string{"state": "/high-score", "fake": "1"}}, "983c0788f640adc0cad3556645c7035a"},
	{"equal scores: later set wins", Input{Params: map[string]string{"state": "/first"}}, "b5e704daa11569066ee0b6b26cc4b64d"},
}

func TestOpDigestVectors(t *testing.T) {
	for _, v := range opDigestVectors {
		if got := OpDigest(v.in); got != v.want {
			t.Errorf("%s: OpDigest = %s, want %s (canonical %q)", v.name, got, v.want, Canonical(allParams(v.in)))
		}
	}
}
