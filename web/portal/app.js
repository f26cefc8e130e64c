// app.js — the client portal: the screen registry and the shell. The CRM
// and CMS screens are registered lazily (fetched when first opened), so the
// first load stays small.

import { startPortal } from '../shared/shell.js';
import { accountScreen } from '../shared/screens/account.js';
import { auditScreen } from '../shared/screens/audit.js';
import { eventsScreen } from '../shared/screens/events.js';
import { usersScreen } from '../shared/screens/users.js';
import apiKeys from './screens/apikeys.js';
import dashboard from './screens/dashboard.js';

const CRM = ['tenant_admin', 'manager', 'client'];
const STAFF = ['tenant_admin', 'manager'];

startPortal({
  id: 'client-portal',
  title: 'Client portal',
  base: '/portal',
  roles: ['client', 'manager', 'tenant_admin', 'super_admin'],
  screens: [
    dashboard,
    { id: 'leads', path: '/leads', title: 'Leads', nav: 'CRM', roles: CRM, load: () => import('./screens/leads.js').then((m) => ({ default: m.leadsList })) },
    { id: 'lead', path: '/leads/:id', title: 'Lead', nav: false, roles: CRM, load: () => import('./screens/leads.js') },
    { id: 'pipeline', path: '/pipeline', title: 'Pipeline', nav: 'CRM', roles: CRM, load: () => import('./screens/pipeline.js') },
    { id: 'pages', path: '/pages', title: 'Pages', nav: 'Website', roles: STAFF, load: () => import('./screens/pages.js').then((m) => ({ default: m.pagesList })) },
    { id: 'page', path: '/pages/:id', title: 'Edit page', nav: false, roles: STAFF, load: () => import('./screens/pages.js') },
    usersScreen(),
    apiKeys,
    auditScreen(),
    eventsScreen(),
    accountScreen(),
  ],
});
