import random,sys
seed=int(sys.argv[1]); random.seed(seed)
out=[]
R=random.random
nodes=[]
for i in range(1,random.randint(2,4)):
    n='n%d'%i; nodes.append(n)
    s='node '
    if R()<0.3: s+='%d: '%(100+i)
    s+=n
    if R()<0.2: s+=':'+random.choice(['member','remote','ping'])
    if R()<0.3: s+=' description="node %d"'%i
    if R()<0.4: s+=' attributes '+('$id=%s-ia '%n if R()<0.3 else '')+'rack=%d'%random.randint(1,3)
    if R()<0.3: s+=' utilization memory=%d'%(1024*random.randint(1,8))
    out.append(s)
if R()<0.4: out.append('rsc_template tpl Dummy params state=/run/x op monitor interval=30s')
prims=['p%d'%i for i in range(1,random.randint(4,9))]
def nv(i):
    return random.choice(['k%d=1'%i,'k%d="a b"'%i,'k%d=x.y'%i,'passwd=s3cret','k%d=/p/q'%i,'k%d='%i,'k%d'%i])
def rule():
    e=random.choice(['#uname eq n1','#uname ne n2 and rack gt 1','defined pingd','date spec weekdays=1-5','date in start=2020-01-01 end=2022-01-01','date in start=2020-01-01 months=6','rack version:lt 2.0 or rack string:eq x'])
    pre=''
    if R()<0.2: pre+=' $role='+random.choice(['Started','Master'])
    if R()<0.5: pre+=' '+random.choice(['10','-inf','inf','+inf','-5'])+':'
    return 'rule'+pre+' '+e
for p in prims:
    agent=random.choice(['Dummy','ocf:pacemaker:Dummy','ocf:pacemaker:Stateful','@tpl' if 'rsc_template tpl Dummy params state=/run/x op monitor interval=30s' in out else 'Dummy','stonith:fence_dummy'])
    s='primitive %s %s'%(p,agent)
    if R()<0.2: s+=' description="res %s"'%p
    sets=[]
    for _ in range(random.randint(0,3)):
        kw=random.choice(['params','meta','utilization'])
        body=[]
        if R()<0.2: body.append(random.choice(['1:','2:','inf:']))
        if R()<0.2: body.append(rule())
        body+= [nv(j) for j in range(random.randint(1,3))]
        sets.append(kw+' '+' '.join(body))
    s+=' '+' '.join(sets)
    if R()<0.2: s+=' operations $id=%s-ops'%p
    for _ in range(random.randint(0,3)):
        op=random.choice(['monitor','start','stop','promote'])
        a=['interval=%d'%random.randint(1,60)+random.choice(['','s','m'])] if op=='monitor' or R()<0.5 else []
        if R()<0.5: a.append('timeout=%ds'%random.randint(10,90))
        if R()<0.2: a.append('record-pending=true')
        if R()<0.2: a.append('start-delay=%ds'%random.randint(1,9))
        random.shuffle(a)
        if a and a[0].startswith('interval') and R()<0.2: a.append('OCF_CHECK_LEVEL=10')
        s+=' op %s %s'%(op,' '.join(a))
        if R()<0.2: s+=' op_params '+('1: ' if R()<0.3 else '')+'depth=%d'%random.randint(0,9)
        if R()<0.2: s+=' op_meta '+(rule()+' ' if R()<0.3 else '')+'timeout=%ds'%random.randint(10,90)
    out.append(s)
free=list(prims); random.shuffle(free)
cont=[]
if len(free)>=3 and R()<0.8:
    m=[free.pop() for _ in range(random.randint(1,3)) if free]
    out.append('group g1 %s'%' '.join(m)+(' meta target-role=Started' if R()<0.3 else '')); cont.append('g1')
    if R()<0.4: out.append('clone cg1 g1 meta interleave=true'); cont.remove('g1'); cont.append('cg1')
if free and R()<0.6:
    out.append('clone c2 %s meta promotable=true'%free.pop()); cont.append('c2')
top=free+cont
def rr(role=False):
    r=random.choice(top)
    if role and R()<0.3: r+=':'+random.choice(['Promoted','Unpromoted','Started','master'])
    return r
for i in range(random.randint(3,8)):
    k=random.choice(['loc','locrule','col','ord','ticket','tag','locset','locpat'])
    if k=='loc': out.append('location l%d %s%s %s: %s'%(i,rr(),random.choice(['',' role=Started',' resource-discovery=exclusive']),random.choice(['inf','-inf','10']),random.choice(nodes)))
    if k=='locrule': out.append('location l%d %s '%(i,rr())+' '.join(rule() for _ in range(random.randint(1,2))))
    if k=='locset': out.append('location l%d { %s %s } 10: %s'%(i,rr(),rr(),random.choice(nodes)))
    if k=='locpat': out.append('location l%d /p[0-9]+/ -inf: %s'%(i,random.choice(nodes)))
    if k=='col': out.append('colocation c%d %s: %s %s%s'%(i,random.choice(['inf','-inf','20']),rr(True),rr(True),' node-attribute=rack' if R()<0.2 else ''))
    if k=='ord': out.append('order o%d %s %s %s'%(i,random.choice(['Mandatory:','Optional:','Serialize:','10:','']),rr()+random.choice(['',':start',':promote']),rr()+random.choice(['',':start',':stop'])))
    if k=='ticket': out.append('rsc_ticket t%d tk%d: %s%s'%(i,i,' '.join(rr(True) for _ in range(random.randint(1,3))),' loss-policy=stop' if R()<0.5 else ''))
    if k=='tag': out.append('tag tag%d: %s'%(i,' '.join(set(rr() for _ in range(2)))))
if R()<0.5: out.append('fencing_topology '+' '.join('%s: %s'%(n,random.choice(prims)) for n in nodes))
for _ in range(random.randint(0,2)):
    if R()<0.5 and len(top)>1:
        out.append('delete '+random.choice(top))
    else:
        x=random.choice(prims); out.append('rename %s %s-r'%(x,x))
out.append('property '+random.choice(['','cib-bootstrap-options: ','$id=cib-bootstrap-options '])+'stonith-enabled=false')
if R()<0.5: out.append('property extra: cluster-name=c%d'%seed)
if R()<0.5: out.append('rsc_defaults '+random.choice(['','$id=rd '])+'resource-stickiness=%d'%random.randint(0,100))
if R()<0.3: out.append('op_defaults '+('d2: ' if R()<0.5 else '')+'timeout=%ds'%random.randint(20,120))
print('\n'.join(out))
