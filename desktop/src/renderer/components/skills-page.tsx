import { useWhoAmI } from '../hooks/use-settings';
import { useSkills } from '../hooks/use-skills';
import { LoadError } from './load-error';
import { ApprovalsSection } from './approvals-section';
import { SkillCard } from './skill-card';

/** Every installed skill: what it does and may touch, on/off, its settings and accounts; standing approvals. */
export function SkillsPage() {
  const skills = useSkills();
  const chatOnly = useWhoAmI().data?.role === 'chat';
  return (
    <div className="settings skills-page" aria-label="Skills">
      <h1>Skills</h1>
      <p className="hint">
        Only skills vetted and signed byte for byte load. Each runs apart from the gateway and reaches only the hosts, files and secrets listed
        under it.
      </p>
      {skills.isPending && <p className="muted">Loading skills…</p>}
      {skills.isError && <LoadError what="skills" error={skills.error} retry={skills.refetch} />}
      {skills.isSuccess && skills.data.length === 0 && <p className="empty">No skills are installed on this assistant.</p>}
      {chatOnly && (
        <p className="notice" role="note">
          This device is paired for chat only: skills are turned on, set up and connected from one of the owner&apos;s devices.
        </p>
      )}
      {skills.isSuccess && (
        <fieldset className="owner-only" disabled={chatOnly} aria-label="Installed skills">
          {skills.data.map((skill) => (
            <SkillCard key={skill.name} skill={skill} />
          ))}
        </fieldset>
      )}
      <ApprovalsSection />
    </div>
  );
}
