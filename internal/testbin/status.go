package testbin

// CrmStatus is the cluster summary of `crm status --output-as=xml`
// (Pacemaker's crm_mon XML): the current DC and the node list. A test
// embeds it in its own status type, next to the resource views it reads;
// encoding/xml fills an embedded struct's fields as the outer struct's.
type CrmStatus struct {
	DC struct {
		Name    string `xml:"name,attr"`
		Present string `xml:"present,attr"`
	} `xml:"summary>current_dc"`
	Nodes []StatusNode `xml:"nodes>node"`
}

// StatusNode is one node of CrmStatus; the flags are "true" or "false".
type StatusNode struct {
	Name    string `xml:"name,attr"`
	Online  string `xml:"online,attr"`
	Standby string `xml:"standby,attr"`
	Unclean string `xml:"unclean,attr"`
	Pending string `xml:"pending,attr"`
}
