import random,sys
seed=int(sys.argv[1]); random.seed(seed)
out=[]
nodes=['n%d'%i for i in range(1,random.randint(2,4))]
for n in nodes:
    s='node '+n
    if random.random()<0.4: s+=' attributes rack=%d'%random.randint(1,3)
    if random.random()<0.3: s+=' utilization cpu=%d'%random.randint(1,8)
    out.append(s)
agents=['Dummy','ocf:pacemaker:Dummy','ocf:pacemaker:Stateful','IPaddr2','lsb:apache2','systemd:nginx','stonith:fence_dummy']
prims=['p%d'%i for i in range(1,random.randint(5,10))]
def val():
    return random.choice(['1','yes','/tmp/x','a b','10.0.0.1','x:y','v-1','"q"'])
for p in prims:
    s='primitive %s %s'%(p,random.choice(agents))
    if random.random()<0.5: s+=' params '+' '.join('k%d=%s'%(i,('"%s"'%val()) if ' ' in val() else val().replace('"','')) for i in range(random.randint(1,3)))
    if random.random()<0.3: s+=' meta '+random.choice(['target-role=Stopped','resource-stickiness=10','priority=3','migration-threshold=2'])
    for _ in range(random.randint(0,3)):
        op=random.choice(['monitor','start','stop'])
        a=[]
        if op=='monitor' or random.random()<0.5: a.append('interval=%ds'%random.randint(1,60))
        if random.random()<0.6: a.append('timeout=%ds'%random.randint(10,90))
        if random.random()<0.2: a.append('on-fail='+random.choice(['restart','block','ignore']))
        if random.random()<0.2: a.append('role='+random.choice(['Master','Slave','Started']))
        random.shuffle(a)
        if random.random()<0.15: a.append('OCF_CHECK_LEVEL=10')
        s+=' op %s %s'%(op,' '.join(a))
    out.append(s)
free=list(prims)
random.shuffle(free)
groups=[]
if len(free)>=3 and random.random()<0.8:
    g='g1'; m=[free.pop(),free.pop()]; groups.append(g)
    out.append('group %s %s%s'%(g,' '.join(m),' meta target-role=Started' if random.random()<0.3 else ''))
if free and random.random()<0.7:
    out.append('clone cl1 %s meta interleave=true'%free.pop())
    groups.append('cl1')
if free and random.random()<0.5:
    out.append('ms ms1 %s meta notify=true'%free.pop()); groups.append('ms1')
top=free+groups
def rref(roles=False):
    r=random.choice(top)
    if roles and random.random()<0.3: r+=':'+random.choice(['Master','Slave','Started','Promoted'])
    return r
def score():
    return random.choice(['inf','-inf','100','-50','0','INFINITY','+inf'])
for i in range(random.randint(3,8)):
    k=random.choice(['loc','col','ord','locrule','colset','ordset'])
    if k=='loc': out.append('location l%d %s %s: %s'%(i,rref(),score(),random.choice(nodes)))
    if k=='locrule':
        expr=random.choice(['#uname eq %s'%random.choice(nodes),'defined pingd','not_defined pingd or pingd lte 0','rack number:gt 1 and #uname ne n1','date spec hours=9-17 weekdays=1-5','date gt 2020-01-01','date in start=2020-01-01 end=2021-01-01'])
        rl=' $role=Started' if random.random()<0.2 else ''
        out.append('location l%d %s rule%s %s: %s'%(i,rref(),rl,random.choice(['inf','-inf','50','pingd']),expr))
    if k=='col': out.append('colocation c%d %s: %s %s'%(i,score(),rref(True),rref(True)))
    if k=='ord':
        kind=random.choice(['Mandatory: ','Optional: ','Serialize: ','inf: ','0: ',''])
        a=rref(); b=rref()
        if random.random()<0.3: a+=':start'
        if random.random()<0.3: b+=':'+random.choice(['start','stop','promote'])
        sym=' symmetrical=false' if random.random()<0.2 else ''
        out.append('order o%d %s%s %s%s'%(i,kind,a,b,sym))
    if k=='colset':
        parts=[]
        for _ in range(random.randint(2,3)):
            br=random.choice(['','( ','[ '])
            items=' '.join(rref(True) for _ in range(random.randint(1,3)))
            parts.append(br+items+({'':'','( ':' )','[ ':' ]'}[br]))
        out.append('colocation cs%d %s: %s'%(i,score(),' '.join(parts)))
    if k=='ordset':
        parts=[]
        for _ in range(random.randint(2,3)):
            br=random.choice(['','( ','[ '])
            items=' '.join(rref()+(':start' if random.random()<0.2 else '') for _ in range(random.randint(1,3)))
            parts.append(br+items+({'':'','( ':' )','[ ':' ]'}[br]))
        out.append('order os%d %s %s'%(i,random.choice(['Mandatory:','Optional:','']),' '.join(parts)))
if random.random()<0.5: out.append('fencing_topology %s'%' '.join(random.sample(prims,2)))
if random.random()<0.4 and len(prims)>2:
    out.append('delete '+random.choice(prims))
out.append('property stonith-enabled=false'+(' no-quorum-policy=ignore' if random.random()<0.5 else ''))
if random.random()<0.5: out.append('rsc_defaults resource-stickiness=%d'%random.randint(0,200))
if random.random()<0.5: out.append('op_defaults timeout=%ds'%random.randint(20,120))
print('\n'.join(out))
